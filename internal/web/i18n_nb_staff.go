package web

// nbStaff is bokmål for staff accounts: signing in and out, the staff
// page, the roles and the refusals of a role or a session.
var nbStaff = map[string]string{
	// Signing in and out.
	"Sign in":      "Logg inn",
	"Sign out":     "Logg ut",
	"Signed in as": "Logget inn som",
	"User name":    "Brukernavn",
	"Password":     "Passord",
	"Customer service for payments with Vipps. Sign in with your own user name and password; an administrator gives you an account.": "Kundeservice for betalinger med Vipps. Logg inn med ditt eget brukernavn og passord; en administrator gir deg en konto.",
	"You are signed out.": "Du er logget ut.",
	"Too many wrong sign-ins. Wait %s seconds and try again.":                                "For mange mislykkede innlogginger. Vent %s sekunder og prøv igjen.",
	"Wrong user name or password. Check them and try again; the password is case-sensitive.": "Feil brukernavn eller passord. Sjekk dem og prøv igjen; passordet skiller mellom store og små bokstaver.",
	"Type both your user name and your password.":                                            "Skriv inn både brukernavn og passord.",

	// Refusals.
	"Not allowed": "Ikke tillatt",
	"You are not signed in, or your session has ended, so nothing was done. Sign in and try again.": "Du er ikke logget inn, eller økten din er utløpt, så ingenting ble gjort. Logg inn og prøv igjen.",
	"Your role, %s, may not do this; nothing was done. Ask an administrator if you need it.":        "Rollen din, %s, har ikke lov til dette; ingenting ble gjort. Spør en administrator hvis du trenger det.",

	// Roles.
	"Viewer":        "Lesetilgang",
	"Operator":      "Operatør",
	"Administrator": "Administrator",
	"Reads payments, their history and deliveries.":                                  "Leser betalinger, historikken deres og leveranser.",
	"Also captures, refunds, cancels, checks with Vipps and sends deliveries again.": "Kan også trekke, refundere, kansellere, sjekke med Vipps og sende leveranser på nytt.",
	"Also manages staff accounts and sees the go-live checklist.":                    "Administrerer også brukerkontoer og ser sjekklisten for produksjonssetting.",

	// The staff page.
	"Staff":                 "Brukere",
	"Roles":                 "Roller",
	"Accounts":              "Kontoer",
	"Disabled":              "Deaktivert",
	"you":                   "deg",
	"Added":                 "Lagt til",
	"Last changed":          "Sist endret",
	"by %s":                 "av %s",
	"Role":                  "Rolle",
	"Change role":           "Endre rolle",
	"New password":          "Nytt passord",
	"Set the password":      "Sett passordet",
	"Enable":                "Aktiver",
	"Disable":               "Deaktiver",
	"Add a member of staff": "Legg til en bruker",
	"Add":                   "Legg til",
	"Letters, digits and . _ @ - only, such as kari.nordmann.":                                     "Bare bokstaver, sifre og . _ @ -, for eksempel kari.nordmann.",
	"At least %d characters. Give it to them in person; a new password signs them out everywhere.": "Minst %d tegn. Gi det til brukeren personlig; et nytt passord logger brukeren ut overalt.",

	// What a change of an account did, or why not.
	"Added %s as %s. Give them the password in person or by another channel than this one.": "La til %s som %s. Gi brukeren passordet personlig eller på en annen kanal enn denne.",
	"%s is now %s.": "%s har nå rollen %s.",
	"%s has a new password and is signed out everywhere.": "%s har fått nytt passord og er logget ut overalt.",
	"%s is disabled and signed out everywhere.":           "%s er deaktivert og logget ut overalt.",
	"%s may sign in again.":                               "%s kan logge inn igjen.",
	"A user with that name exists already (names are the same whatever their case); nothing was done. Choose another name.": "Det finnes allerede en bruker med det navnet (store og små bokstaver regnes som like); ingenting ble gjort. Velg et annet navn.",
	"There is no such user; nothing was done. Reload the page.":                                                             "Den brukeren finnes ikke; ingenting ble gjort. Last inn siden på nytt.",
	"Type a user name.": "Skriv inn et brukernavn.",
	"The user name is %d characters; use at most %d.":                                                                              "Brukernavnet er %d tegn; bruk høyst %d.",
	"The user name holds something that is not text; type it again.":                                                               "Brukernavnet inneholder noe som ikke er tekst; skriv det inn på nytt.",
	"A user name may hold letters, digits and . _ @ - only (such as kari.nordmann), not %s.":                                       "Et brukernavn kan bare inneholde bokstaver, sifre og . _ @ - (for eksempel kari.nordmann), ikke %s.",
	"The password is %d characters; use at least %d.":                                                                              "Passordet er %d tegn; bruk minst %d.",
	"The password is %d bytes; only the first %d count, so use a shorter one (æ, ø and å take 2 bytes each).":                      "Passordet er %d byte; bare de første %d teller, så bruk et kortere (æ, ø og å tar 2 byte hver).",
	"Choose one of the roles on the page.":                                                                                         "Velg en av rollene på siden.",
	"%s is the only enabled administrator, and someone must be able to manage staff; make another account an administrator first.": "%s er den eneste aktive administratoren, og noen må kunne administrere brukere; gjør en annen konto til administrator først.",
	"The change was refused (%s).":                                                                                                 "Endringen ble avvist (%s).",

	// New events of a payment's history.
	"Checked with Vipps":    "Sjekket med Vipps",
	"Delivery queued again": "Leveransen er lagt i kø på nytt",
	"Your role, %s, may read payments only. Capturing, refunding, cancelling and checking with Vipps need an operator.": "Rollen din, %s, kan bare lese betalinger. Å trekke, refundere, kansellere og sjekke med Vipps krever en operatør.",
}
