package web

// nbCommon is bokmål for what every page has: the frame, refused forms,
// the pages of errors.
var nbCommon = map[string]string{
	"Environment": "Miljø",
	"TEST MODE: payments go to the vippskit simulator (%s), not to Vipps. No real money moves.": "TESTMODUS: betalinger går til vippskit-simulatoren (%s), ikke til Vipps. Ingen ekte penger flyttes.",
	"Vipps TEST environment: no real money moves.":                                              "Vipps' TESTMILJØ: ingen ekte penger flyttes.",
	"Language":     "Språk",
	"Form refused": "Skjemaet ble avvist",
	"This form was sent from another website, so it was not accepted. Open this site's own page and send the form from there.": "Skjemaet ble sendt fra et annet nettsted og ble derfor ikke godtatt. Åpne denne sidens egen side og send skjemaet derfra.",
	"Form not accepted": "Skjemaet ble ikke godtatt",
	"The form could not be read. Go back, reload the page and try again.": "Skjemaet kunne ikke leses. Gå tilbake, last inn siden på nytt og prøv igjen.",
	"The form has expired": "Skjemaet er utløpt",
	"For your safety, forms are valid for a limited time. Go back, reload the page and send the form again.": "Av sikkerhetshensyn er skjemaer gyldige en begrenset tid. Gå tilbake, last inn siden på nytt og send skjemaet igjen.",
	"Something went wrong on our side. Please try again.":                                                    "Noe gikk galt hos oss. Prøv igjen.",
	"Page not found": "Fant ikke siden",
	"There is nothing at this address. Check that you used the whole link.": "Det finnes ingenting på denne adressen. Sjekk at du brukte hele lenken.",
	"Go to the shop": "Gå til butikken",
}
