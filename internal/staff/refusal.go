package staff

import (
	"fmt"

	"github.com/vippskit/vipps/internal/payment"
)

// RefusalReason says why a change of an account was refused.
type RefusalReason string

// Reasons of a [Refusal].
const (
	// NameEmpty: the user name is empty.
	NameEmpty RefusalReason = "name_empty"
	// NameTooLong: the user name is Refusal.Length characters, more than
	// MaxName.
	NameTooLong RefusalReason = "name_too_long"
	// NameNotText: the user name is not valid UTF-8.
	NameNotText RefusalReason = "name_not_text"
	// NameCharacter: the user name holds Refusal.Char, which is not a
	// letter, a digit or one of . _ @ -.
	NameCharacter RefusalReason = "name_character"
	// PasswordTooShort: the password is Refusal.Length characters, fewer
	// than MinPassword.
	PasswordTooShort RefusalReason = "password_too_short"
	// PasswordTooLong: the password is Refusal.Length bytes, more than
	// MaxPassword (what bcrypt reads).
	PasswordTooLong RefusalReason = "password_too_long"
	// UnknownRole: Refusal.Role is not a role.
	UnknownRole RefusalReason = "unknown_role"
	// LastAdmin: the change would leave no enabled administrator;
	// Refusal.Name is the only one.
	LastAdmin RefusalReason = "last_admin"
)

// Refusal is a change of an account refused because of what was asked,
// with the figures, so that each place it is shown can say it in its own
// words. It wraps payment.ErrInvalid, or for LastAdmin payment.ErrState
// (and errors.Is finds ErrLastAdmin in it); find it with
// errors.AsType[*Refusal].
type Refusal struct {
	Reason RefusalReason
	// Length is the name's or password's length (in characters; a
	// password over the limit in bytes), Limit the bound it broke.
	Length, Limit int
	// Char is the character a name may not hold.
	Char rune
	// Role is the unknown role.
	Role Role
	// Name is the account of a LastAdmin.
	Name string
}

// Error says what is wrong, after the sentinel's text.
func (r *Refusal) Error() string { return r.Unwrap().Error() + ": " + r.why() }

// Unwrap returns payment.ErrState for LastAdmin, else payment.ErrInvalid.
func (r *Refusal) Unwrap() error {
	if r.Reason == LastAdmin {
		return payment.ErrState
	}
	return payment.ErrInvalid
}

// Is reports a LastAdmin as ErrLastAdmin, which is what the stores answer
// when a concurrent change took the other administrator.
func (r *Refusal) Is(target error) bool { return target == ErrLastAdmin && r.Reason == LastAdmin }

// why is the refusal in English, without the sentinel: what the command
// line and the log show.
func (r *Refusal) why() string {
	switch r.Reason {
	case NameEmpty:
		return "the user name is empty"
	case NameTooLong:
		return fmt.Sprintf("the user name is %d characters; at most %d", r.Length, r.Limit)
	case NameNotText:
		return "the user name is not valid UTF-8"
	case NameCharacter:
		return fmt.Sprintf("the user name may hold letters, digits and . _ @ - only, not %q", r.Char)
	case PasswordTooShort:
		return fmt.Sprintf("the password is %d characters; use at least %d", r.Length, r.Limit)
	case PasswordTooLong:
		return fmt.Sprintf("the password is %d bytes; at most %d bytes are used by the hash, so use a shorter one (letters such as æ, ø and å take 2 bytes each)", r.Length, r.Limit)
	case UnknownRole:
		return fmt.Sprintf("unknown role %q; use viewer, operator or admin", r.Role)
	case LastAdmin:
		return r.Name + " is the only enabled administrator; make another account an administrator first"
	}
	return string(r.Reason)
}
