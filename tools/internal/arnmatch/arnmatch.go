// Package arnmatch matches ARNs against the patterns of lambda Permissions'
// source ARNs (aws:SourceArn, ArnLike): each of the ARN's six components is
// compared on its own, '*' matching any run of characters and '?' one.
package arnmatch

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Pattern is a compiled source ARN pattern.
type Pattern struct {
	text string
	// parts are partition, service, region, account and resource, each
	// compiled once.
	parts [5]*regexp.Regexp
}

// Compile compiles a pattern such as
// "arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/aggregates/*".
func Compile(pattern string) (*Pattern, error) {
	a, err := arn.Parse(pattern)
	if err != nil {
		return nil, fmt.Errorf("source ARN pattern %q: %w", pattern, err)
	}
	p := &Pattern{text: pattern}
	for i, part := range components(a) {
		re := regexp.QuoteMeta(part)
		re = strings.NewReplacer(`\*`, `.*`, `\?`, `.`).Replace(re)
		p.parts[i] = regexp.MustCompile("^" + re + "$") // quoted: always compiles
	}
	return p, nil
}

// String is the pattern as written.
func (p *Pattern) String() string { return p.text }

// Match reports whether s, an ARN, matches the pattern; a string that is
// not an ARN matches nothing.
func (p *Pattern) Match(s string) bool {
	a, err := arn.Parse(s)
	if err != nil {
		return false
	}
	for i, part := range components(a) {
		if !p.parts[i].MatchString(part) {
			return false
		}
	}
	return true
}

func components(a arn.ARN) [5]string {
	return [5]string{a.Partition, a.Service, a.Region, a.AccountID, a.Resource}
}
