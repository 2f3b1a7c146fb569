package provider

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/o365-terraform/terraform-provider-o365/internal/connection"
)

var _ function.Function = certificateThumbprintFunction{}
var _ function.Function = certificateInfoFunction{}

// certificateParameter is the one argument of the certificate functions: a PEM public
// certificate. It is not marked sensitive: a certificate is public, and a private key given
// by mistake is refused without being echoed (readCertificate).
var certificateParameter = function.StringParameter{
	Name:                "pem",
	MarkdownDescription: "A PEM public certificate (a `-----BEGIN CERTIFICATE-----` block), e.g. `file(\"migration.crt\")`. Private keys are refused.",
}

// readCertificate parses the function's PEM argument with the provider's one certificate
// reader. Its errors are on the argument (the CLI names it) with the fix, never containing
// the input.
func readCertificate(ctx context.Context, req function.RunRequest, resp *function.RunResponse) *connection.Certificate {
	var pem string
	if resp.Error = function.ConcatFuncErrors(resp.Error, req.Arguments.Get(ctx, &pem)); resp.Error != nil {
		return nil
	}
	c, err := connection.ParsePublicCertificate(pem)
	if pk, ok := errors.AsType[*connection.PrivateKeyError](err); ok {
		resp.Error = function.ConcatFuncErrors(resp.Error, function.NewArgumentFuncError(0,
			"not a usable public certificate: the value holds a private key (a PEM block of type \""+pk.Kind+"\"; the value is not shown). "+
				"Pass the public part only: the .crt file, or extract it with `openssl x509 -in key_and_cert.pem -out migration.crt`"))
		return nil
	}
	if err != nil {
		resp.Error = function.ConcatFuncErrors(resp.Error, function.NewArgumentFuncError(0,
			"not a usable public certificate: "+err.Error()+". Give the PEM text of the certificate alone (-----BEGIN CERTIFICATE-----)"))
		return nil
	}
	return c
}

// certificateThumbprintFunction is provider::o365::certificate_thumbprint(pem).
type certificateThumbprintFunction struct{}

func newCertificateThumbprintFunction() function.Function { return certificateThumbprintFunction{} }

func (certificateThumbprintFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "certificate_thumbprint"
}

func (certificateThumbprintFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The thumbprint Entra shows for a certificate",
		MarkdownDescription: "Returns the thumbprint of a PEM public certificate as the Entra admin center shows it for an " +
			"application's certificate credential: the SHA-1 digest of the certificate's DER, 40 upper-case hex digits. " +
			"Fails, without repeating its input, on anything that is not a PEM certificate and on any private key. " +
			"Provider functions need Terraform 1.8 or later, or OpenTofu 1.7 or later.",
		Parameters: []function.Parameter{certificateParameter},
		Return:     function.StringReturn{},
	}
}

func (certificateThumbprintFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	if c := readCertificate(ctx, req, resp); c != nil {
		resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, c.Thumbprint))
	}
}

// certificateInfoFunction is provider::o365::certificate_info(pem).
type certificateInfoFunction struct{}

func newCertificateInfoFunction() function.Function { return certificateInfoFunction{} }

// certificateInfoTypes are the attributes of certificate_info's object.
var certificateInfoTypes = map[string]attr.Type{
	"subject":    types.StringType,
	"not_before": types.StringType,
	"not_after":  types.StringType,
	"thumbprint": types.StringType,
}

func (certificateInfoFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "certificate_info"
}

func (certificateInfoFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Subject, validity and thumbprint of a certificate",
		MarkdownDescription: "Returns what a plan needs to know of a PEM public certificate, as an object: `subject` " +
			"(the distinguished name, e.g. `CN=migration`), `not_before` and `not_after` (the validity, RFC 3339 in UTC) " +
			"and `thumbprint` (as `certificate_thumbprint` returns it). " +
			"Fails, without repeating its input, on anything that is not a PEM certificate and on any private key. " +
			"Provider functions need Terraform 1.8 or later, or OpenTofu 1.7 or later.",
		Parameters: []function.Parameter{certificateParameter},
		Return:     function.ObjectReturn{AttributeTypes: certificateInfoTypes},
	}
}

func (certificateInfoFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	c := readCertificate(ctx, req, resp)
	if c == nil {
		return
	}
	v, diags := types.ObjectValue(certificateInfoTypes, map[string]attr.Value{
		"subject":    types.StringValue(c.Subject),
		"not_before": types.StringValue(c.NotBefore.UTC().Format(time.RFC3339)),
		"not_after":  types.StringValue(c.NotAfter.UTC().Format(time.RFC3339)),
		"thumbprint": types.StringValue(c.Thumbprint),
	})
	if diags.HasError() {
		resp.Error = function.ConcatFuncErrors(resp.Error, function.FuncErrorFromDiags(ctx, diags))
		return
	}
	resp.Error = function.ConcatFuncErrors(resp.Error, resp.Result.Set(ctx, v))
}
