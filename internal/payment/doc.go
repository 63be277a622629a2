// Package payment is the payment service's domain: the states a payment goes
// through as the shop sees them, how they follow from what Vipps reports,
// and when to ask Vipps again.
//
// The service never trusts a callback or a redirect alone: both only make it
// call /details sooner. [Observe] turns the details answer into a [State] and
// [Amounts]; [Schedule] says when to poll a payment whose outcome depends on
// the customer, after Vipps' polling guidelines.
package payment
