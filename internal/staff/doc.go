// Package staff is who may use the admin: staff accounts with a role
// ([Viewer], [Operator], [Admin]), their passwords (bcrypt, cost
// [HashCost]) and their sessions, kept in the service's database through
// a [Store] (internal/sqlite and internal/postgres), so that several
// replicas share them.
//
// A session's token lives in the browser's cookie only; the store keeps
// its SHA-256. A session ends when it has not been used for
// Config.IdleTimeout, Config.MaxAge after sign-in, at sign-out, and when
// its account is disabled or gets a new password.
//
// Who changed an account is the [payment.Actor] of the request's context,
// as for changes of payments.
package staff
