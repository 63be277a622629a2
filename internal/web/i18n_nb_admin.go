package web

// nbAdmin is bokmål for the admin pages of customer service.
var nbAdmin = map[string]string{
	// States.
	"Created":              "Opprettet",
	"Waiting for customer": "Venter på kunden",
	"Reserved":             "Reservert",
	"Captured":             "Trukket",
	"Refunded":             "Refundert",
	"Cancelled":            "Kansellert",
	"Released":             "Frigitt",
	"Failed":               "Feilet",

	// Events.
	"Payment created":                            "Betaling opprettet",
	"Sent to Vipps; waiting for the customer":    "Sendt til Vipps; venter på kunden",
	"Customer approved; money reserved":          "Kunden godkjente; beløpet er reservert",
	"Money captured":                             "Penger trukket",
	"Money refunded":                             "Penger refundert",
	"Reservation released":                       "Reservasjonen frigitt",
	"Payment failed":                             "Betalingen feilet",
	"Not approved (rejected or timed out)":       "Ikke godkjent (avvist eller tidsavbrutt)",
	"Customer withdrew consent; details deleted": "Kunden trakk samtykket; opplysningene er slettet",
	"Vipps sent a notification":                  "Vipps sendte et varsel",
	"Error from Vipps":                           "Feil fra Vipps",
	"Operation requested":                        "Operasjon bestilt",
	"Operation refused by Vipps":                 "Operasjonen ble avvist av Vipps",
	"Receipt added":                              "Kvittering lagt til",
	"Receipt sent to the Vipps app":              "Kvittering sendt til Vipps-appen",
	"Replaced by a newer payment":                "Erstattet av en nyere betaling",

	// Operations and their status.
	"Capture":           "Trekk",
	"Refund":            "Refunder",
	"Cancel":            "Kanseller",
	"Waiting for Vipps": "Venter på Vipps",
	"Done":              "Utført",
	"Refused":           "Avvist",

	// Deliveries.
	"Notification to the shop":          "Varsel til butikken",
	"Receipt to the Vipps app":          "Kvittering til Vipps-appen",
	"Release if a newer attempt exists": "Frigi hvis et nyere forsøk finnes",
	"Waiting to be sent":                "Venter på å bli sendt",
	"Delivered":                         "Levert",
	"Gave up":                           "Ga opp",

	// Go-live checklist grades.
	"Pass":          "Bestått",
	"Fail":          "Ikke bestått",
	"Check by hand": "Sjekk manuelt",
	"Not seen yet":  "Ikke sett ennå",
}
