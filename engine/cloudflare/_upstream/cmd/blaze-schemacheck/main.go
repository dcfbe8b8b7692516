// Command schemacheck runs the Cloudflare Terraform provider's own resource schemas, config
// validation and import code for the resource types the fleet uses.
//
// It is compiled as a package of the upstream module (engine/build.py overlays this
// file into the module's tree: its services live under internal/, which only the module
// itself may import), into a provider that serves just those resources through the
// plugin framework's own protocol-6 server, as Terraform or the Pulumi bridge would call it.
//
//	schemacheck schema     the resource schemas (tfprotov6) as JSON
//	schemacheck validate   JSON lines {"type", "config"} in; one line of diagnostics out each
//	schemacheck import     JSON lines {"type", "id"} in; one line {"diagnostics", "state"} out each
//
// schema and validate need no client and no network. import is what `terraform import` or
// the bridge's import asks of the provider: the resource's own ImportState parses the id
// with its documented template and reads the resource from the API, with a client made
// from the environment as the real provider makes it (CLOUDFLARE_BASE_URL,
// CLOUDFLARE_API_TOKEN, ...); tests point it at a loopback API.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"

	"github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/d1_database"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/notification_policy"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/notification_policy_webhooks"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket_cors"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket_lifecycle"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_cron_trigger"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_custom_domain"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_kv_namespace"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_route"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_script"
)

type fleetResources struct{}

func (fleetResources) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "cloudflare"
}
func (fleetResources) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

// Configure hands the resources the client internal/provider.go's Configure builds when the
// provider block is empty, as it is here: every setting from the environment, in its order.
// Its user-agent and x-stainless-* headers are left out: they only label the requests.
func (fleetResources) Configure(_ context.Context, _ provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	opts := []option.RequestOption{}
	for _, setting := range []struct {
		variable string
		option   func(string) option.RequestOption
	}{
		{"CLOUDFLARE_BASE_URL", option.WithBaseURL},
		{"CLOUDFLARE_API_TOKEN", option.WithAPIToken},
		{"CLOUDFLARE_API_KEY", option.WithAPIKey},
		{"CLOUDFLARE_EMAIL", option.WithAPIEmail},
		{"CLOUDFLARE_API_USER_SERVICE_KEY", option.WithUserServiceKey},
	} {
		if value, ok := os.LookupEnv(setting.variable); ok {
			opts = append(opts, setting.option(value))
		}
	}
	client := cloudflare.NewClient(opts...)
	resp.DataSourceData = client
	resp.ResourceData = client
}
func (fleetResources) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (fleetResources) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		d1_database.NewResource,
		notification_policy.NewResource,
		notification_policy_webhooks.NewResource,
		r2_bucket.NewResource,
		r2_bucket_cors.NewResource,
		r2_bucket_lifecycle.NewResource,
		workers_cron_trigger.NewResource,
		workers_custom_domain.NewResource,
		workers_kv_namespace.NewResource,
		workers_route.NewResource,
		workers_script.NewResource,
	}
}

type request struct {
	Type   string          `json:"type"`
	Config json.RawMessage `json:"config"`
	ID     string          `json:"id"`
}

type imported struct {
	Diagnostics []diagnostic `json:"diagnostics"`
	State       any          `json:"state"` // null unless the import succeeded
}

type diagnostic struct {
	Severity  string `json:"severity"`
	Summary   string `json:"summary"`
	Detail    string `json:"detail"`
	Attribute string `json:"attribute,omitempty"`
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "schema" && os.Args[1] != "validate" && os.Args[1] != "import") {
		fmt.Fprintln(os.Stderr, "usage: schemacheck schema | validate | import")
		os.Exit(2)
	}
	ctx := context.Background()
	server := providerserver.NewProtocol6(fleetResources{})()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemas.Diagnostics) > 0 {
		fmt.Fprintln(os.Stderr, "schemacheck: the provider's schemas:", err, schemas.Diagnostics)
		os.Exit(1)
	}
	out := json.NewEncoder(os.Stdout)
	if os.Args[1] == "schema" {
		if err := out.Encode(schemas.ResourceSchemas); err != nil {
			fmt.Fprintln(os.Stderr, "schemacheck:", err)
			os.Exit(1)
		}
		return
	}
	answer := func(line []byte) any { return validate(ctx, server, schemas.ResourceSchemas, line) }
	if os.Args[1] == "import" {
		configure(ctx, server)
		answer = func(line []byte) any { return importState(ctx, server, schemas.ResourceSchemas, line) }
	}
	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 1<<20), 64<<20)
	for lines.Scan() {
		if err := out.Encode(answer(lines.Bytes())); err != nil {
			fmt.Fprintln(os.Stderr, "schemacheck:", err)
			os.Exit(1)
		}
	}
	if err := lines.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "schemacheck:", err)
		os.Exit(1)
	}
}

func validate(ctx context.Context, server tfprotov6.ProviderServer, schemas map[string]*tfprotov6.Schema, line []byte) []diagnostic {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "unreadable request", Detail: err.Error()}}
	}
	schema, ok := schemas[req.Type]
	if !ok {
		return []diagnostic{{Severity: "ERROR", Summary: "unknown resource type", Detail: req.Type}}
	}
	typ := schema.ValueType()
	var raw any
	if err := json.Unmarshal(req.Config, &raw); err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "unreadable config", Detail: err.Error()}}
	}
	// A configuration names every attribute of its type; the ones not set are null.
	complete, err := json.Marshal(withNulls(raw, typ))
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "unreadable config", Detail: err.Error()}}
	}
	value, err := tftypes.ValueFromJSONWithOpts(complete, typ, tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: false})
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "config does not fit the schema", Detail: err.Error()}}
	}
	config, err := tfprotov6.NewDynamicValue(typ, value)
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "config does not fit the schema", Detail: err.Error()}}
	}
	resp, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: req.Type, Config: &config})
	if err != nil {
		return []diagnostic{{Severity: "ERROR", Summary: "validation failed", Detail: err.Error()}}
	}
	return diagnostics(resp.Diagnostics)
}

func diagnostics(from []*tfprotov6.Diagnostic) []diagnostic {
	found := []diagnostic{}
	for _, d := range from {
		entry := diagnostic{Severity: d.Severity.String(), Summary: d.Summary, Detail: d.Detail}
		if d.Attribute != nil {
			entry.Attribute = d.Attribute.String()
		}
		found = append(found, entry)
	}
	return found
}

// configure runs the provider's Configure as Terraform does before any import: with its
// (empty) configuration, so the resources get their client.
func configure(ctx context.Context, server tfprotov6.ProviderServer) {
	empty := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
	config, err := tfprotov6.NewDynamicValue(empty, tftypes.NewValue(empty, map[string]tftypes.Value{}))
	if err == nil {
		var resp *tfprotov6.ConfigureProviderResponse
		resp, err = server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &config})
		if err == nil && len(resp.Diagnostics) > 0 {
			err = fmt.Errorf("%v", diagnostics(resp.Diagnostics))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemacheck: the provider's Configure:", err)
		os.Exit(1)
	}
}

func importState(ctx context.Context, server tfprotov6.ProviderServer, schemas map[string]*tfprotov6.Schema, line []byte) imported {
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		return imported{Diagnostics: []diagnostic{{Severity: "ERROR", Summary: "unreadable request", Detail: err.Error()}}}
	}
	schema, ok := schemas[req.Type]
	if !ok {
		return imported{Diagnostics: []diagnostic{{Severity: "ERROR", Summary: "unknown resource type", Detail: req.Type}}}
	}
	resp, err := server.ImportResourceState(ctx, &tfprotov6.ImportResourceStateRequest{TypeName: req.Type, ID: req.ID})
	if err != nil {
		return imported{Diagnostics: []diagnostic{{Severity: "ERROR", Summary: "import failed", Detail: err.Error()}}}
	}
	answer := imported{Diagnostics: diagnostics(resp.Diagnostics)}
	if len(resp.ImportedResources) != 1 || resp.ImportedResources[0].State == nil {
		return answer
	}
	state, err := resp.ImportedResources[0].State.Unmarshal(schema.ValueType())
	if err == nil && !state.IsFullyKnown() {
		err = fmt.Errorf("the imported state holds unknown values")
	}
	if err == nil {
		answer.State, err = plain(state)
	}
	if err != nil {
		answer.Diagnostics = append(answer.Diagnostics, diagnostic{Severity: "ERROR", Summary: "unreadable imported state", Detail: err.Error()})
	}
	return answer
}

// plain is a known tftypes value as JSON would hold it (numbers keep every digit).
func plain(value tftypes.Value) (any, error) {
	if value.IsNull() {
		return nil, nil
	}
	switch value.Type().(type) {
	case tftypes.List, tftypes.Set, tftypes.Tuple:
		var items []tftypes.Value
		if err := value.As(&items); err != nil {
			return nil, err
		}
		out := make([]any, len(items))
		for i, item := range items {
			var err error
			if out[i], err = plain(item); err != nil {
				return nil, err
			}
		}
		return out, nil
	case tftypes.Map, tftypes.Object:
		var fields map[string]tftypes.Value
		if err := value.As(&fields); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(fields))
		for name, field := range fields {
			var err error
			if out[name], err = plain(field); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	switch {
	case value.Type().Is(tftypes.String):
		var text string
		err := value.As(&text)
		return text, err
	case value.Type().Is(tftypes.Bool):
		var flag bool
		err := value.As(&flag)
		return flag, err
	case value.Type().Is(tftypes.Number):
		number := new(big.Float)
		err := value.As(number)
		return json.Number(number.Text('g', -1)), err
	}
	return nil, fmt.Errorf("a value of type %s", value.Type())
}

func withNulls(value any, typ tftypes.Type) any {
	switch t := typ.(type) {
	case tftypes.Object:
		fields, ok := value.(map[string]any)
		if !ok {
			return value
		}
		for name, attr := range t.AttributeTypes {
			fields[name] = withNulls(fields[name], attr)
		}
		return fields
	case tftypes.List:
		return eachWithNulls(value, t.ElementType)
	case tftypes.Set:
		return eachWithNulls(value, t.ElementType)
	case tftypes.Map:
		entries, ok := value.(map[string]any)
		if !ok {
			return value
		}
		for key, entry := range entries {
			entries[key] = withNulls(entry, t.ElementType)
		}
		return entries
	}
	return value
}

func eachWithNulls(value any, element tftypes.Type) any {
	items, ok := value.([]any)
	if !ok {
		return value
	}
	for i, item := range items {
		items[i] = withNulls(item, element)
	}
	return items
}
