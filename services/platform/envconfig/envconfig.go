// Package envconfig loads a service's environment at cold start: exactly the
// variables of its shared/lambdaenv list, each required. The compute stack
// sets the same list, so what a function reads and what it is given are one
// fact.
package envconfig

import (
	"fmt"
	"strings"
)

// Env is a loaded environment.
type Env struct {
	vals map[string]string
}

// Load reads each of names with getenv (os.Getenv in a main; a map lookup in
// tests). It fails, naming every one, when any is unset or empty: a function
// without its table or queue can do nothing useful, and saying so at cold
// start beats failing on the first event.
func Load(names []string, getenv func(string) string) (Env, error) {
	e := Env{vals: make(map[string]string, len(names))}
	var missing []string
	for _, name := range names {
		v := getenv(name)
		if v == "" {
			missing = append(missing, name)
			continue
		}
		e.vals[name] = v
	}
	if len(missing) > 0 {
		return Env{}, fmt.Errorf("environment variables not set: %s", strings.Join(missing, ", "))
	}
	return e, nil
}

// Get returns the value of a loaded variable. A name outside the list Load
// read is a programming error (the stack does not set it, so the value would
// silently be empty): Get panics, which the services' main tests catch.
func (e Env) Get(name string) string {
	v, ok := e.vals[name]
	if !ok {
		panic(fmt.Sprintf("envconfig: %s is not in the loaded list; add it to the service's shared/lambdaenv list", name))
	}
	return v
}
