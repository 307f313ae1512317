package synthrec

import "fmt"

// OfType returns the recorded resources of a type, in registration order.
func (r *Result) OfType(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// Get returns the resource of a type with a logical name.
func (r *Result) Get(typ, name string) (Resource, error) {
	for _, res := range r.Resources {
		if res.Type == typ && res.Name == name {
			return res, nil
		}
	}
	return Resource{}, fmt.Errorf("no %s named %q was registered", typ, name)
}

// ByURN returns the resource with a URN.
func (r *Result) ByURN(urn string) (Resource, bool) {
	for _, res := range r.Resources {
		if res.URN == urn {
			return res, true
		}
	}
	return Resource{}, false
}
