package web

// nbAttention is bokmål for the admin's "needs attention" page, a failing
// delivery and the requests to Vipps on the payment page.
var nbAttention = map[string]string{
	// The navigation.
	"Needs attention": "Trenger oppfølging",

	// The attention page.
	"Payments that need a person, the most urgent first: reservations close to Vipps' time limit, captures, refunds and cancels whose outcome is unknown, notifications and receipts that fail, and payments Vipps cannot be asked about.": "Betalinger som trenger en person, de mest hastende først: reservasjoner nær Vipps' tidsfrist, trekk, refusjoner og kanselleringer med ukjent utfall, varsler og kvitteringer som feiler, og betalinger Vipps ikke kan spørres om.",
	"There are more than this page shows; the oldest of each kind are shown. Deal with these, then reload.":                                                                                                                                "Det er flere enn denne siden viser; de eldste av hver sort vises. Ta deg av disse, og last siden på nytt.",
	"Nothing needs attention now.": "Ingenting trenger oppfølging nå.",
	"Since":                        "Siden",

	"Reservation about to expire":                                             "Reservasjonen utløper snart",
	"%s of %s is reserved and not captured.":                                  "%s av %s er reservert og ikke trukket.",
	"Vipps' limit of %d days after the reservation passed on %s.":             "Vipps' frist på %d dager etter reservasjonen gikk ut %s.",
	"Vipps' limit of %d days after the reservation ends on %s: 1 day left.":   "Vipps' frist på %d dager etter reservasjonen går ut %s: 1 dag igjen.",
	"Vipps' limit of %d days after the reservation ends on %s: %d days left.": "Vipps' frist på %d dager etter reservasjonen går ut %s: %d dager igjen.",
	"Capture what the customer has received, or cancel to release the rest.":  "Trekk det kunden har fått, eller kanseller for å frigi resten.",

	"Outcome unknown": "Ukjent utfall",
	"%s of %s has waited its turn since it was asked for.":         "%s av %s har stått i kø siden den ble bestilt.",
	"%s of %s was sent to Vipps %d times, and no answer has come.": "%s av %s er sendt til Vipps %d ganger uten at noe svar har kommet.",
	"%s of %s was sent to Vipps once, and no answer has come.":     "%s av %s er sendt til Vipps én gang uten at noe svar har kommet.",
	"Request id %s.": "Forespørsels-ID %s.",
	"Open the payment and use “Check with Vipps now”. The service sends it again with the same request id, so it cannot happen twice.": "Åpne betalingen og bruk «Check with Vipps now». Tjenesten sender den på nytt med samme forespørsels-ID, så den kan ikke bli utført to ganger.",

	"Delivery gave up":               "Leveringen ga opp",
	"%s: gave up after %d attempts.": "%s: ga opp etter %d forsøk.",
	"Fix what the error says, then open the payment and send it again.": "Rett opp det feilen sier, åpne så betalingen og send på nytt.",

	"Delivery failing": "Leveringen feiler",
	"The service keeps trying. If the error is on the shop's side, fix it; the payment page can send it again now.": "Tjenesten prøver videre. Ligger feilen hos butikken, rett den opp; fra betalingssiden kan du sende på nytt med en gang.",
	"Failing — retrying at %s (1 attempt, last error: %s)":                                                          "Feiler — prøver igjen %s (1 forsøk, siste feil: %s)",
	"Failing — retrying at %s (%d attempts, last error: %s)":                                                        "Feiler — prøver igjen %s (%d forsøk, siste feil: %s)",

	"Vipps cannot be asked":                 "Vipps kan ikke spørres",
	"The last %d checks with Vipps failed.": "De siste %d sjekkene hos Vipps feilet.",
	"The service keeps asking. If it goes on, check Vipps' status page, or ask Vipps about the orderId.": "Tjenesten spør videre. Varer det, sjekk Vipps' driftsstatus, eller spør Vipps om orderId-en.",

	// The requests to Vipps on the payment page.
	"Requests to Vipps":                       "Forespørsler til Vipps",
	"The last %d requests and Vipps' answers": "De siste %d forespørslene og Vipps' svar",
	"Newest first. Personal data is left out before anything is stored: names, e-mail and postal addresses, ids and tokens are not kept, and phone numbers keep their last two digits.": "Nyeste først. Personopplysninger fjernes før noe lagres: navn, e-post- og postadresser, ID-er og tokener lagres ikke, og telefonnumre beholder bare de to siste sifrene.",
	"Took %s":       "Tok %s",
	"Error:":        "Feil:",
	"Request body":  "Forespørselen",
	"Response body": "Svaret",
}
