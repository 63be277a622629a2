package web

// nbCustomer is bokmål for the customer's pages: the demo shop, the return
// page, the shop's order page and what customers are told about errors.
var nbCustomer = map[string]string{
	"For":                                   "Gjelder",
	"Payment method":                        "Betalingsmåte",
	"Order reference":                       "Ordrereferanse",
	"Vipps order ID":                        "Vipps-ordre-ID",
	"This order belongs to another browser": "Denne bestillingen hører til en annen nettleser",
	"An order can only be seen and paid in the browser it was placed in. Open the link in that browser, or place a new order.": "En bestilling kan bare ses og betales i nettleseren den ble lagt inn i. Åpne lenken i den nettleseren, eller legg inn en ny bestilling.",
	"Something went wrong": "Noe gikk galt",
	"We could not read the order just now. Please try again in a moment.":                       "Vi fikk ikke lest bestillingen akkurat nå. Prøv igjen om litt.",
	"This order is paid already.":                                                               "Denne bestillingen er allerede betalt.",
	"We could not reach Vipps just now. No money has been taken. Please try again in a moment.": "Vi fikk ikke kontakt med Vipps akkurat nå. Ingen penger er trukket. Prøv igjen om litt.",
	"Something went wrong on our side. No money has been taken. Please try again in a moment.":  "Noe gikk galt hos oss. Ingen penger er trukket. Prøv igjen om litt.",
}
