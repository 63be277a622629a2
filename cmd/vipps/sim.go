package main

import (
	"context"
	"errors"
)

// runSim is replaced by the simulator command.
func runSim(ctx context.Context, e *env, args []string) error {
	return errors.New("sim: not built yet")
}
