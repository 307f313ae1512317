package api

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/marketanalytics/pipeline/shared/marketdata"
)

// Every route is proxied to a function; signed routes use IAM authorization.
const (
	authorizationIAM   = "AWS_IAM"
	authorizationNone  = "NONE"
	integrationType    = "AWS_PROXY"
	integrationMethod  = "POST" // Lambda's Invoke API, whatever the route's method
	apiGatewayService  = "apigateway.amazonaws.com"
	lambdaInvokeAction = "lambda:InvokeFunction"
)

// API Gateway's names of a method's request parameters.
const (
	pathParameter  = "method.request.path."
	queryParameter = "method.request.querystring."
)

// route is one method of the API, as API Gateway declares it.
type route struct {
	// path are the path parts under the root, e.g. {"aggregates", "{symbol}"}.
	path   []string
	method string
	// service is the compute-layer function behind the route.
	service string
	// iam: the method uses AWS_IAM authorization.
	iam bool
	// parameters are the method's request parameters (name → required).
	parameters map[string]bool
}

// routes is the API, from the shared route table. Intermediate paths
// (/aggregates) become resources without methods.
var routes = fromTable(marketdata.Routes)

// fromTable declares the table's routes: path parameters are required, query
// parameters optional.
func fromTable(table []marketdata.Route) []route {
	rs := make([]route, len(table))
	for i, t := range table {
		r := route{path: t.Parts(), method: t.Method, service: t.Service, iam: t.IAM}
		for _, name := range t.PathParams() {
			r.addParameter(pathParameter+name, true)
		}
		for _, name := range t.Query {
			r.addParameter(queryParameter+name, false)
		}
		rs[i] = r
	}
	return rs
}

func (r *route) addParameter(name string, required bool) {
	if r.parameters == nil {
		r.parameters = map[string]bool{}
	}
	r.parameters[name] = required
}

// authorization is the method's authorization type.
func (r route) authorization() string {
	if r.iam {
		return authorizationIAM
	}
	return authorizationNone
}

// resourcePath is the route's path, e.g. "/aggregates/{symbol}".
func (r route) resourcePath() string { return "/" + strings.Join(r.path, "/") }

// key is the route's logical name, e.g. "GET-aggregates-symbol".
func (r route) key() string { return r.method + "-" + pathKey(r.path) }

// sourceArnSuffix is what follows the API's execution ARN in the invoke
// permission: any stage, this method, this path with parameters as wildcards
// (e.g. "/*/GET/aggregates/*").
func (r route) sourceArnSuffix() string {
	parts := make([]string, len(r.path))
	for i, p := range r.path {
		if _, _, ok := marketdata.PathParam(p); ok {
			p = "*"
		}
		parts[i] = p
	}
	return "/*/" + r.method + "/" + strings.Join(parts, "/")
}

// pathKey is a logical name for a path: "aggregates-symbol".
func pathKey(path []string) string {
	return strings.NewReplacer("{", "", "}", "", "+", "").Replace(strings.Join(path, "-"))
}

// deployedRoute is a route's method and integration, with what the
// deployment hashes.
type deployedRoute struct {
	route       route
	method      *apigateway.Method
	integration *apigateway.Integration
	uri         pulumi.StringOutput
}

// newRoutes creates the path resources, then for each route its method,
// integration and invoke permission.
func newRoutes(ctx *pulumi.Context, rest *apigateway.RestApi, functions map[string]functionRef) ([]deployedRoute, error) {
	resources := map[string]*apigateway.Resource{}
	var deployed []deployedRoute
	for _, r := range routes {
		fn, ok := functions[r.service]
		if !ok {
			return nil, fmt.Errorf("route %s %s: no function %q", r.method, r.resourcePath(), r.service)
		}
		res, err := pathResource(ctx, rest, resources, r.path)
		if err != nil {
			return nil, err
		}
		d, err := newRoute(ctx, rest, res, r, fn)
		if err != nil {
			return nil, fmt.Errorf("route %s %s: %w", r.method, r.resourcePath(), err)
		}
		deployed = append(deployed, d)
	}
	return deployed, nil
}

// pathResource returns the resource of a path, creating it and its parents.
func pathResource(ctx *pulumi.Context, rest *apigateway.RestApi, made map[string]*apigateway.Resource, path []string) (*apigateway.Resource, error) {
	key := pathKey(path)
	if r, ok := made[key]; ok {
		return r, nil
	}
	parentID := rest.RootResourceId
	if len(path) > 1 {
		parent, err := pathResource(ctx, rest, made, path[:len(path)-1])
		if err != nil {
			return nil, err
		}
		parentID = parent.ID().ToStringOutput()
	}
	r, err := apigateway.NewResource(ctx, key, &apigateway.ResourceArgs{
		RestApi:  rest.ID(),
		ParentId: parentID,
		PathPart: pulumi.String(path[len(path)-1]),
	})
	if err != nil {
		return nil, err
	}
	made[key] = r
	return r, nil
}

// newRoute creates a route's method, its Lambda proxy integration and the
// permission for this API's method and path (any stage) to invoke the function.
func newRoute(ctx *pulumi.Context, rest *apigateway.RestApi, res *apigateway.Resource, r route, fn functionRef) (deployedRoute, error) {
	args := &apigateway.MethodArgs{
		RestApi:       rest.ID(),
		ResourceId:    res.ID(),
		HttpMethod:    pulumi.String(r.method),
		Authorization: pulumi.String(r.authorization()),
	}
	if len(r.parameters) > 0 {
		args.RequestParameters = pulumi.ToBoolMap(r.parameters)
	}
	method, err := apigateway.NewMethod(ctx, r.key(), args)
	if err != nil {
		return deployedRoute{}, err
	}
	integration, err := apigateway.NewIntegration(ctx, r.key()+"-integration", &apigateway.IntegrationArgs{
		RestApi:               rest.ID(),
		ResourceId:            res.ID(),
		HttpMethod:            method.HttpMethod,
		Type:                  pulumi.String(integrationType),
		IntegrationHttpMethod: pulumi.String(integrationMethod),
		Uri:                   fn.invokeArn,
	})
	if err != nil {
		return deployedRoute{}, err
	}
	_, err = lambda.NewPermission(ctx, r.key()+"-permission", &lambda.PermissionArgs{
		StatementId: pulumi.String("AllowAPI-" + r.key()),
		Action:      pulumi.String(lambdaInvokeAction),
		Function:    fn.name,
		Principal:   pulumi.String(apiGatewayService),
		SourceArn: rest.ExecutionArn.ApplyT(func(arn string) string {
			return arn + r.sourceArnSuffix()
		}).(pulumi.StringOutput),
	})
	if err != nil {
		return deployedRoute{}, err
	}
	return deployedRoute{route: r, method: method, integration: integration, uri: fn.invokeArn}, nil
}
