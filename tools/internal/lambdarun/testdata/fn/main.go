// Command fn is a test function for the pool: it echoes its environment
// settings, fails, panics or sleeps on request.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type req struct {
	Do  string `json:"do"`
	Env string `json:"env"`
}

func main() {
	lambda.Start(func(ctx context.Context, r req) (map[string]string, error) {
		switch r.Do {
		case "fail":
			return nil, errors.New("asked to fail")
		case "panic":
			panic("asked to panic")
		case "sleep":
			time.Sleep(10 * time.Second)
		case "exit":
			os.Exit(3)
		}
		return map[string]string{"env": os.Getenv(r.Env)}, nil
	})
}
