package pipeline

// serveInvokeAPI serves Lambda's Invoke API for the local functions on a
// free loopback port; Stop closes it.
func (p *Pipeline) serveInvokeAPI() (string, error) {
	endpoint, closeFn, err := p.Glue.ServeInvokeAPI("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	p.closers = append(p.closers, closeFn)
	return endpoint, nil
}
