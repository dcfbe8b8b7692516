// Command pulumi-resource-cloudflare is the Pulumi Cloudflare provider 6.23.1 for the
// resource types the program declares: terraform-provider-cloudflare's own resources,
// bridged by pulumi-terraform-bridge's plugin-framework bridge with its standard mapping.
//
// pulumi-cloudflare's own provider module is not served here (README, "The real engine"),
// so this is built as a package of the upstream module instead (engine/build.py overlays
// this folder and our go.mod onto a copy of it: the services live under internal/, which
// only the module itself may import). It is not pulumi-cloudflare's release: the upstream
// is v5.24.0, and none of pulumi-cloudflare's overrides are applied (README, "How this
// provider differs from pulumi-cloudflare's release").
package main

import (
	"context"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/cloudflare/terraform-provider-cloudflare/internal/consts"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/customvalidator"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/d1_database"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/notification_policy"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/notification_policy_webhooks"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket_cors"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/r2_bucket_lifecycle"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/worker"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/worker_version"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_cron_trigger"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_custom_domain"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_deployment"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_kv_namespace"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_route"
	"github.com/cloudflare/terraform-provider-cloudflare/internal/services/workers_script"
)

// version is the release of pulumi_cloudflare whose SDK the program uses: the engine asks
// for a provider of exactly this version.
const version = "6.23.1"

func main() {
	ctx := context.Background()
	pfbridge.Main(ctx, "cloudflare", providerInfo(), pfbridge.ProviderMetadata{XGetSchema: packageSchema})
}

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(fleetProvider{}),
		Name:         "cloudflare",
		Version:      version,
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
	}
	info.MustComputeTokens(tokens.SingleModule("cloudflare_", "index", tokens.MakeStandard("cloudflare")))
	return info
}

var (
	schemaOnce  sync.Once
	schemaBytes []byte
	schemaErr   error
)

// packageSchema generates the Pulumi package schema the first time the engine asks for it.
// Only `pulumi package get-schema`, code generators and the YAML language host ask; a
// Python program's preview or up never does, so the plugin does not pay for it at start.
// The generator's warnings go to stderr: the plugin's first line on stdout is its port.
func packageSchema(ctx context.Context, _ plugin.GetSchemaRequest) ([]byte, error) {
	schemaOnce.Do(func() {
		sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
		generated, err := pftfgen.GenerateSchema(ctx, pftfgen.GenerateSchemaOptions{
			ProviderInfo:    providerInfo(),
			DiagnosticsSink: sink,
			XInMemoryDocs:   true,
		})
		if err != nil {
			schemaErr = err
			return
		}
		schemaBytes = generated.ProviderMetadata.PackageSchema
	})
	return schemaBytes, schemaErr
}

// fleetProvider is upstream's provider (internal/provider.go) cut down to the resource types
// the program declares: importing upstream's provider package would compile all of its
// several hundred services. Its configuration keeps upstream's names, validators and order.
type fleetProvider struct{}

type providerConfig struct {
	APIKey                  types.String `tfsdk:"api_key"`
	APIUserServiceKey       types.String `tfsdk:"api_user_service_key"`
	Email                   types.String `tfsdk:"email"`
	APIToken                types.String `tfsdk:"api_token"`
	UserAgentOperatorSuffix types.String `tfsdk:"user_agent_operator_suffix"`
	BaseURL                 types.String `tfsdk:"base_url"`
}

func (fleetProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "cloudflare"
	resp.Version = version
}

func (fleetProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			consts.EmailSchemaKey: schema.StringAttribute{
				Optional:    true,
				Description: "A registered Cloudflare email address, for `api_key`; else `" + consts.EmailEnvVarKey + "`.",
			},
			consts.APIKeySchemaKey: schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "A legacy API key, with `email`; else `" + consts.APIKeyEnvVarKey + "`.",
				Validators: []validator.String{
					customvalidator.NewSensitiveRegexMatchesValidator(
						regexp.MustCompile(`^[0-9A-Za-z\-_]{37,60}$`),
						"API key must only contain characters 0-9, a-z, A-Z, hyphens and underscores",
					),
					stringvalidator.AlsoRequires(path.MatchRoot(consts.EmailSchemaKey)),
				},
			},
			consts.APITokenSchemaKey: schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "The API token; else `" + consts.APITokenEnvVarKey + "`.",
				Validators: []validator.String{
					customvalidator.NewSensitiveRegexMatchesValidator(
						regexp.MustCompile(`^[0-9A-Za-z\-_]{40,80}$`),
						"API tokens must only contain characters a-z, A-Z, 0-9, hyphens and underscores",
					),
				},
			},
			consts.APIUserServiceKeySchemaKey: schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "A key for a restricted set of endpoints; else `" + consts.APIUserServiceKeyEnvVarKey + "`.",
			},
			consts.UserAgentOperatorSuffixSchemaKey: schema.StringAttribute{
				Optional:    true,
				Description: "Appended to the HTTP User-Agent instead of the Terraform version.",
			},
			consts.BaseURLSchemaKey: schema.StringAttribute{
				Optional:    true,
				Description: "The API's base URL; else `" + consts.BaseURLEnvVarKey + "`.",
			},
		},
	}
}

// Configure builds the client as upstream's Configure does: each setting from the provider
// configuration, else from its environment variable, in upstream's order, and upstream's
// User-Agent and x-stainless-* headers.
func (fleetProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var config providerConfig
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	opts := []option.RequestOption{}
	for _, setting := range []struct {
		value    types.String
		variable string
		option   func(string) option.RequestOption
	}{
		{config.BaseURL, consts.BaseURLEnvVarKey, option.WithBaseURL},
		{config.APIToken, consts.APITokenEnvVarKey, option.WithAPIToken},
		{config.APIKey, consts.APIKeyEnvVarKey, option.WithAPIKey},
		{config.Email, consts.EmailEnvVarKey, option.WithAPIEmail},
		{config.APIUserServiceKey, consts.APIUserServiceKeyEnvVarKey, option.WithUserServiceKey},
	} {
		if !setting.value.IsNull() && !setting.value.IsUnknown() {
			opts = append(opts, setting.option(setting.value.ValueString()))
		} else if value, ok := os.LookupEnv(setting.variable); ok {
			opts = append(opts, setting.option(value))
		}
	}

	const framework = "terraform-plugin-framework"
	frameworkVersion := moduleVersion("github.com/hashicorp/terraform-plugin-framework")
	userAgent := "terraform-provider-cloudflare/" + version + " " + framework + "/" + frameworkVersion
	// Upstream formats the suffix with String(), which quotes it (pulumi-cloudflare patches
	// that too): the value itself is what belongs in the header.
	if !config.UserAgentOperatorSuffix.IsNull() {
		userAgent += " " + config.UserAgentOperatorSuffix.ValueString()
	} else {
		userAgent += " terraform/" + req.TerraformVersion
	}
	opts = append(opts,
		option.WithHeader("user-agent", userAgent),
		option.WithHeader("x-stainless-package-version", version),
		option.WithHeader("x-stainless-runtime", framework),
		option.WithHeader("x-stainless-lang", "Terraform"),
		option.WithHeader("x-stainless-runtime-version", frameworkVersion),
	)

	client := cloudflare.NewClient(opts...)
	resp.DataSourceData = client
	resp.ResourceData = client
}

// moduleVersion is the version of a module linked into this binary, without its "v", as
// upstream's utils.FindGoModuleVersion finds it: that package would link cloudflare-go v0
// and testify into the plugin for this alone.
func moduleVersion(module string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == module {
				return strings.TrimPrefix(dep.Version, "v")
			}
		}
	}
	return ""
}

// DataSources is empty: a data source's invoke would call the API during a preview.
func (fleetProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

// Resources are the types the program declares, and the three of Workers versions.
func (fleetProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		d1_database.NewResource,
		notification_policy.NewResource,
		notification_policy_webhooks.NewResource,
		r2_bucket.NewResource,
		r2_bucket_cors.NewResource,
		r2_bucket_lifecycle.NewResource,
		worker.NewResource,
		worker_version.NewResource,
		workers_cron_trigger.NewResource,
		workers_custom_domain.NewResource,
		workers_deployment.NewResource,
		workers_kv_namespace.NewResource,
		workers_route.NewResource,
		workers_script.NewResource,
	}
}
