// Command processor is the placeholder processor Lambda; the real handler replaces it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context) error { return nil })
}
