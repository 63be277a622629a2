package payment

import (
	"context"
	"encoding/json"
)

// ActorKind says what kind of actor asked for a change.
type ActorKind string

// Kinds of actor.
const (
	// ActorService is the service itself: the poller, callbacks, and any
	// change no one else asked for. It is what a context without an actor
	// means.
	ActorService ActorKind = "service"
	// ActorShop is the shop, through the shop API.
	ActorShop ActorKind = "shop"
	// ActorStaff is a member of staff, signed in to the admin.
	ActorStaff ActorKind = "staff"
	// ActorCLI is a person at the command line ("vipps staff ...").
	ActorCLI ActorKind = "cli"
)

// Actor is who asked for a change: recorded in the data of the event that
// a staff or shop request makes (under "by"), so that a payment's history
// says who captured, refunded, cancelled, checked or redelivered what.
// The zero Actor is the service itself.
type Actor struct {
	Kind ActorKind `json:"kind"`
	// Name is the staff member's user name (ActorStaff only).
	Name string `json:"name,omitzero"`
}

// Actors that are not people.
var (
	ShopAPI     = Actor{Kind: ActorShop}
	CommandLine = Actor{Kind: ActorCLI}
)

// Staff is the actor of a member of staff signed in as name.
func Staff(name string) Actor { return Actor{Kind: ActorStaff, Name: name} }

// String is the actor as people read it: the staff member's name, "shop
// API", "command line" or "vippskit".
func (a Actor) String() string {
	switch a.Kind {
	case ActorStaff:
		return a.Name
	case ActorShop:
		return "shop API"
	case ActorCLI:
		return "command line"
	}
	return "vippskit"
}

// actorKey is the context key of the actor.
type actorKey struct{}

// WithActor returns a copy of ctx that carries a: the Service records it
// as who asked for the changes made with ctx.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the actor ctx carries; the service (the zero Actor
// with Kind ActorService) when none.
func ActorOf(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	if a.Kind == "" {
		a.Kind = ActorService
	}
	return a
}

// EventActor returns who asked for the change an event records, from its
// data's "by", and whether it says.
func EventActor(e Event) (Actor, bool) {
	var d struct {
		By *Actor `json:"by"`
	}
	if len(e.Data) == 0 || json.Unmarshal(e.Data, &d) != nil || d.By == nil || d.By.Kind == "" {
		return Actor{}, false
	}
	return *d.By, true
}
