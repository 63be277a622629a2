package staff

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// Role is what a member of staff may do in the admin. Each role may do
// everything the roles before it may.
type Role string

// Roles, from the least to the most.
const (
	// Viewer reads payments, their history and deliveries.
	Viewer Role = "viewer"
	// Operator also captures, refunds, cancels, checks with Vipps and
	// sends deliveries again.
	Operator Role = "operator"
	// Admin also manages staff accounts and sees the go-live checklist.
	Admin Role = "admin"
)

// Roles are the roles, from the least to the most.
func Roles() []Role { return []Role{Viewer, Operator, Admin} }

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// May reports whether r may do what needs the role least: r is least or
// above it.
func (r Role) May(least Role) bool {
	i, j := slices.Index(Roles(), r), slices.Index(Roles(), least)
	return i >= 0 && j >= 0 && i >= j
}

// The limits of accounts.
const (
	// MinPassword is the least length of a password, in characters.
	MinPassword = 12
	// MaxPassword is the longest password, in bytes: bcrypt reads no more,
	// so a longer one is refused rather than cut short.
	MaxPassword = 72
	// MaxName is the longest user name, in characters.
	MaxName = 64
	// HashCost is the bcrypt cost of password hashes.
	HashCost = 12
)

// Default session lifetimes (see Config).
const (
	DefaultIdleTimeout = 12 * time.Hour
	DefaultMaxAge      = 7 * 24 * time.Hour
	// touchEvery is how stale a session's SeenAt may get before a request
	// stores a new one: one write a minute per session, not one per page.
	touchEvery = time.Minute
)

// ErrSignIn is the one answer to a sign-in with a wrong user name or
// password, or of a disabled account: it does not tell which.
var ErrSignIn = errors.New("wrong user name or password")

// ErrNoSession: the session token is unknown, expired or ended.
var ErrNoSession = errors.New("no session")

// ErrLastAdmin is a change refused by the store because it would leave no
// enabled Admin; it is a payment.ErrState.
var ErrLastAdmin = fmt.Errorf("%w: no enabled administrator would be left", payment.ErrState)

// Account is a member of staff who may sign in to the admin.
type Account struct {
	ID int64 // assigned by the store
	// Name is the user name as it was typed when the account was made;
	// unique compared case-insensitively (see [NameKey]).
	Name string
	Role Role
	// PasswordHash is the bcrypt hash of the password.
	PasswordHash string
	// Disabled accounts cannot sign in, and have no sessions.
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// UpdatedBy is who made the last change (see [payment.Actor.String]).
	UpdatedBy string
}

// Session is a signed-in browser. Only the hash of its token is stored,
// so that the database does not hold what signs a browser in.
type Session struct {
	// Hash is the hex SHA-256 of the token in the browser's cookie.
	Hash      string
	AccountID int64
	CreatedAt time.Time
	// SeenAt is when the session was last used, to the minute.
	SeenAt time.Time
}

// Store keeps staff accounts and their sessions. Implementations:
// internal/sqlite and internal/postgres, both held to
// storetest.RunStaff.
type Store interface {
	// CreateAccount stores a new account and sets a.ID. It fails with
	// payment.ErrExists when an account has the same NameKey; with
	// onlyFirst, also when any account exists, checked in the same
	// transaction (the first account of an installation, made by several
	// replicas at once).
	CreateAccount(ctx context.Context, a *Account, onlyFirst bool) error
	// Account returns the account whose NameKey is key, or
	// payment.ErrNotFound.
	Account(ctx context.Context, key string) (*Account, error)
	// Accounts returns every account, by NameKey.
	Accounts(ctx context.Context) ([]*Account, error)
	// UpdateAccount stores a's Role, PasswordHash, Disabled, UpdatedAt and
	// UpdatedBy and, with endSessions, deletes the account's sessions in
	// the same transaction. payment.ErrNotFound for an unknown a.ID;
	// ErrLastAdmin, and nothing stored, when no enabled Admin would be
	// left, checked in the same transaction, so that two changes at once
	// cannot both take the last two.
	UpdateAccount(ctx context.Context, a *Account, endSessions bool) error
	// CreateSession stores a new session. payment.ErrNotFound when its
	// account does not exist.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session whose Hash is hash with its account, or
	// payment.ErrNotFound.
	Session(ctx context.Context, hash string) (*Session, *Account, error)
	// TouchSession sets the session's SeenAt to at; an unknown hash is no
	// error.
	TouchSession(ctx context.Context, hash string, at time.Time) error
	// DeleteSession deletes a session; an unknown hash is no error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions deletes the sessions seen before seenBefore or
	// created before createdBefore, and returns how many.
	DeleteExpiredSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int, error)
}

// NameKey is a user name as names are compared: case-insensitively.
func NameKey(name string) string { return strings.ToLower(name) }

// Config configures a [Service]. Store is required; the other zero values
// are the documented defaults.
type Config struct {
	Store Store
	// IdleTimeout ends a session not used for this long; 0 means
	// DefaultIdleTimeout (12 h).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, used or not; 0 means
	// DefaultMaxAge (7 days).
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets a line per change of an account; nil discards.
	Logger *slog.Logger
	// WeakHashForTests hashes with bcrypt's least cost instead of
	// HashCost, so that tests that make many accounts run fast. Never set
	// it in a service.
	WeakHashForTests bool
}

// Service manages staff accounts and signs staff in and out. It is safe
// for concurrent use, also by several replicas on one database: sessions
// live in the store.
type Service struct {
	cfg   Config
	store Store
	now   func() time.Time
	log   *slog.Logger
	cost  int
	// dummy is a hash that a sign-in of an unknown name is checked
	// against, so that it takes as long as that of a known one. Made once,
	// in the background from New on: a hash takes a quarter of a second,
	// which the service's start no longer waits for.
	dummy func() ([]byte, error)
}

// New checks cfg and returns a Service. It starts computing one password
// hash in the background, which takes a moment.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("staff: a store is required")
	}
	cfg.IdleTimeout = cmp.Or(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.MaxAge = cmp.Or(cfg.MaxAge, DefaultMaxAge)
	s := &Service{cfg: cfg, store: cfg.Store, now: cfg.Now, log: cfg.Logger, cost: HashCost}
	if cfg.WeakHashForTests {
		s.cost = bcrypt.MinCost
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.dummy = sync.OnceValues(func() ([]byte, error) {
		return bcrypt.GenerateFromPassword([]byte(rand.Text()), s.cost)
	})
	go s.dummy() //nolint:errcheck // its caller, SignIn, sees the error
	return s, nil
}

// CheckName checks a new user name: 1 to MaxName letters, digits and
// . _ @ -, so that it reads the same everywhere it is shown.
func CheckName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return &Refusal{Reason: NameEmpty}
	case n > MaxName:
		return &Refusal{Reason: NameTooLong, Length: n, Limit: MaxName}
	case !utf8.ValidString(name):
		return &Refusal{Reason: NameNotText}
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("._@-", r) {
			return &Refusal{Reason: NameCharacter, Char: r}
		}
	}
	return nil
}

// CheckPassword checks a new password: at least MinPassword characters
// and at most MaxPassword bytes (what bcrypt reads; a longer one would be
// cut short without a word).
func CheckPassword(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPassword:
		return &Refusal{Reason: PasswordTooShort, Length: n, Limit: MinPassword}
	case len(password) > MaxPassword:
		return &Refusal{Reason: PasswordTooLong, Length: len(password), Limit: MaxPassword}
	}
	return nil
}

// hash hashes a password that CheckPassword accepted.
func (s *Service) hash(password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return "", fmt.Errorf("hash the password: %w", err)
	}
	return string(h), nil
}

func checkRole(r Role) error {
	if !r.Valid() {
		return &Refusal{Reason: UnknownRole, Role: r}
	}
	return nil
}

// Add makes an account. payment.ErrExists when the name is taken
// (compared case-insensitively), payment.ErrInvalid for a bad name, role
// or password. The change is made by the actor of ctx
// ([payment.ActorOf]).
func (s *Service) Add(ctx context.Context, name string, role Role, password string) (*Account, error) {
	return s.add(ctx, name, role, password, false)
}

// Bootstrap makes the first account of an installation, an Admin, when
// there are no accounts at all, and reports whether it did. With accounts
// it does nothing, whatever the name and password. Several replicas may
// call it at once: one account is made.
func (s *Service) Bootstrap(ctx context.Context, name, password string) (bool, error) {
	// Every start calls this: with accounts, refuse what add would refuse,
	// but spend no slow hash on a password that is not used.
	if err := cmp.Or(CheckName(name), CheckPassword(password)); err != nil {
		return false, fmt.Errorf("add %q: %w", name, err)
	}
	if as, err := s.store.Accounts(ctx); err != nil {
		return false, err
	} else if len(as) > 0 {
		return false, nil
	}
	_, err := s.add(ctx, name, Admin, password, true)
	if errors.Is(err, payment.ErrExists) {
		return false, nil
	}
	return err == nil, err
}

func (s *Service) add(ctx context.Context, name string, role Role, password string, first bool) (*Account, error) {
	if err := cmp.Or(CheckName(name), checkRole(role)); err != nil {
		return nil, fmt.Errorf("add %q: %w", name, err)
	}
	h, err := s.hash(password)
	if err != nil {
		return nil, fmt.Errorf("add %q: %w", name, err)
	}
	now := s.now()
	a := &Account{Name: name, Role: role, PasswordHash: h, CreatedAt: now, UpdatedAt: now, UpdatedBy: payment.ActorOf(ctx).String()}
	if err := s.store.CreateAccount(ctx, a, first); err != nil {
		return nil, fmt.Errorf("add %q: %w", name, err)
	}
	s.log.InfoContext(ctx, "staff account added", "user", name, "role", string(role), "by", a.UpdatedBy)
	return a, nil
}

// List returns every account, by name.
func (s *Service) List(ctx context.Context) ([]*Account, error) {
	as, err := s.store.Accounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("staff accounts: %w", err)
	}
	return as, nil
}

// Get returns the account of name (compared case-insensitively), or
// payment.ErrNotFound.
func (s *Service) Get(ctx context.Context, name string) (*Account, error) {
	a, err := s.store.Account(ctx, NameKey(name))
	if err != nil {
		return nil, fmt.Errorf("staff account %q: %w", name, err)
	}
	return a, nil
}

// SetRole changes the role of name's account. The last enabled Admin
// cannot lose the role (payment.ErrState): someone must be able to manage
// staff.
func (s *Service) SetRole(ctx context.Context, name string, role Role) (*Account, error) {
	if err := checkRole(role); err != nil {
		return nil, fmt.Errorf("set the role of %q: %w", name, err)
	}
	return s.change(ctx, name, "role", func(a *Account) (bool, error) {
		if a.Role == Admin && role != Admin && !a.Disabled {
			if err := s.keepAdmin(ctx, a); err != nil {
				return false, err
			}
		}
		a.Role = role
		return false, nil
	})
}

// SetPassword changes the password of name's account and ends its
// sessions.
func (s *Service) SetPassword(ctx context.Context, name, password string) (*Account, error) {
	h, err := s.hash(password)
	if err != nil {
		return nil, fmt.Errorf("set the password of %q: %w", name, err)
	}
	return s.change(ctx, name, "password", func(a *Account) (bool, error) {
		a.PasswordHash = h
		return true, nil
	})
}

// SetDisabled disables name's account, ending its sessions, or enables it
// again. The last enabled Admin cannot be disabled (payment.ErrState).
func (s *Service) SetDisabled(ctx context.Context, name string, disabled bool) (*Account, error) {
	what := "enabled"
	if disabled {
		what = "disabled"
	}
	return s.change(ctx, name, what, func(a *Account) (bool, error) {
		if disabled && !a.Disabled && a.Role == Admin {
			if err := s.keepAdmin(ctx, a); err != nil {
				return false, err
			}
		}
		a.Disabled = disabled
		return disabled, nil
	})
}

// keepAdmin refuses a change that would leave no enabled Admin but a.
func (s *Service) keepAdmin(ctx context.Context, a *Account) error {
	all, err := s.store.Accounts(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != a.ID && o.Role == Admin && !o.Disabled {
			return nil
		}
	}
	return &Refusal{Reason: LastAdmin, Name: a.Name}
}

// change reads name's account, applies f (which reports whether the
// account's sessions end) and stores it.
func (s *Service) change(ctx context.Context, name, what string, f func(a *Account) (endSessions bool, err error)) (*Account, error) {
	a, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	end, err := f(a)
	if err != nil {
		return nil, fmt.Errorf("change %q: %w", name, err)
	}
	a.UpdatedAt, a.UpdatedBy = s.now(), payment.ActorOf(ctx).String()
	err = s.store.UpdateAccount(ctx, a, end)
	if errors.Is(err, ErrLastAdmin) {
		// Another change took the other administrator meanwhile.
		err = &Refusal{Reason: LastAdmin, Name: a.Name}
	}
	if err != nil {
		return nil, fmt.Errorf("change %q: %w", name, err)
	}
	s.log.InfoContext(ctx, "staff account changed", "user", a.Name, "change", what, "role", string(a.Role), "disabled", a.Disabled, "by", a.UpdatedBy)
	return a, nil
}

// SignIn checks name and password and starts a session: it returns the
// account and the session's token, for the browser's cookie. A wrong
// name or password, or a disabled account, is ErrSignIn; an unknown name
// costs the same hash as a known one. Expired sessions are deleted on the
// way.
func (s *Service) SignIn(ctx context.Context, name, password string) (*Account, vipps.Secret, error) {
	a, err := s.store.Account(ctx, NameKey(name))
	var hash []byte
	switch {
	case errors.Is(err, payment.ErrNotFound):
		a = nil
		if hash, err = s.dummy(); err != nil {
			return nil, "", fmt.Errorf("sign in: %w", err)
		}
	case err != nil:
		return nil, "", fmt.Errorf("sign in: %w", err)
	default:
		hash = []byte(a.PasswordHash)
	}
	// Compared whatever the name and length, so that the time taken tells
	// nothing.
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if a == nil || !match || a.Disabled || len(password) > MaxPassword {
		return nil, "", ErrSignIn
	}
	now := s.now()
	if _, err := s.store.DeleteExpiredSessions(ctx, now.Add(-s.cfg.IdleTimeout), now.Add(-s.cfg.MaxAge)); err != nil {
		return nil, "", fmt.Errorf("sign in: %w", err)
	}
	var b [32]byte
	rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	if err := s.store.CreateSession(ctx, &Session{Hash: tokenHash(token), AccountID: a.ID, CreatedAt: now, SeenAt: now}); err != nil {
		return nil, "", fmt.Errorf("sign in: %w", err)
	}
	return a, vipps.Secret(token), nil
}

// Session returns the account signed in with token and the session, and
// notes its use. ErrNoSession when the token is unknown, the session has
// not been used for IdleTimeout or is older than MaxAge, or the account is
// disabled.
func (s *Service) Session(ctx context.Context, token string) (*Account, *Session, error) {
	if token == "" || len(token) > 100 {
		return nil, nil, ErrNoSession
	}
	h := tokenHash(token)
	se, a, err := s.store.Session(ctx, h)
	switch {
	case errors.Is(err, payment.ErrNotFound):
		return nil, nil, ErrNoSession
	case err != nil:
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	now := s.now()
	if !now.Before(se.SeenAt.Add(s.cfg.IdleTimeout)) || !now.Before(se.CreatedAt.Add(s.cfg.MaxAge)) || a.Disabled {
		if err := s.store.DeleteSession(ctx, h); err != nil {
			return nil, nil, fmt.Errorf("session: %w", err)
		}
		return nil, nil, ErrNoSession
	}
	if now.Sub(se.SeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, h, now); err != nil {
			return nil, nil, fmt.Errorf("session: %w", err)
		}
		se.SeenAt = now
	}
	return a, se, nil
}

// SignOut ends the session of token; an unknown one is no error.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := s.store.DeleteSession(ctx, tokenHash(token)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// tokenHash is the stored form of a session token.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
