/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package database

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/controllers/render"
)

// LabelServer marks a Secret of the operator's namespace as the registration of a database server; its value is the
// server's name, which Tenants give as spec.database.server.
const LabelServer = "tenancy.tenant-operator.dev/database-server"

// Keys of a server's Secret.
const (
	KeyHost           = "host"
	KeyPort           = "port"
	KeyUsername       = "username"
	KeyPassword       = "password" //nolint:gosec // a key name
	KeyCACert         = "ca.crt"
	KeyAdminDatabase  = "adminDatabase"
	KeySharedDatabase = "sharedDatabase"
	KeySharedSchema   = "sharedSchema"
	KeyTenantColumn   = "tenantColumn"
	// KeyEgressCIDRs lists the server's addresses (comma-separated CIDRs) that tenants' pods may reach; by default
	// the host's own address, when host is one.
	KeyEgressCIDRs = "egressCIDRs"
)

// Server is a registered database server: where it is, how the operator signs in, and the names of what tenants
// share on it.
type Server struct {
	Name string
	Host string
	Port int
	// AdminUser may create roles and databases, and must bypass row-level security (superuser or BYPASSRLS) to
	// erase a deleted tenant's rows under SharedSchema.
	AdminUser, AdminPassword string
	// CACert verifies the server's certificate: connections are TLS only, verify-full.
	CACert []byte
	// AdminDatabase is where the operator connects to manage roles and databases.
	AdminDatabase string
	// SharedDatabase holds the SharedSchema and SchemaPerTenant tenants; SharedSchema is the schema the first share.
	SharedDatabase, SharedSchema string
	// TenantColumn is the column that tags a SharedSchema row with its tenant's role.
	TenantColumn string
	// EgressCIDRs are the server's addresses, which the tenants' NetworkPolicies open on Port.
	EgressCIDRs []string
}

// Defaults of a server's Secret.
const (
	DefaultAdminDatabase  = "postgres"
	DefaultSharedDatabase = "tenants"
	DefaultSharedSchema   = "shared"
	DefaultTenantColumn   = "tenant"
)

// ServerFromSecret reads a server's registration, refusing one the operator could not use safely.
func ServerFromSecret(s *corev1.Secret) (Server, error) {
	get := func(key, def string) string {
		if v, ok := s.Data[key]; ok && len(v) > 0 {
			return string(v)
		}
		return def
	}
	srv := Server{
		Name: s.Labels[LabelServer], Host: get(KeyHost, ""),
		AdminUser: get(KeyUsername, ""), AdminPassword: get(KeyPassword, ""), CACert: s.Data[KeyCACert],
		AdminDatabase: get(KeyAdminDatabase, DefaultAdminDatabase), SharedDatabase: get(KeySharedDatabase, DefaultSharedDatabase),
		SharedSchema: get(KeySharedSchema, DefaultSharedSchema), TenantColumn: get(KeyTenantColumn, DefaultTenantColumn),
	}
	port, err := strconv.Atoi(get(KeyPort, "5432"))
	if err != nil || port < 1 || port > 65535 {
		return Server{}, fmt.Errorf("database server %s: port %q is not a port", srv.Name, get(KeyPort, ""))
	}
	srv.Port = port
	switch {
	case srv.Name == "":
		return Server{}, fmt.Errorf("secret %s/%s: no %s label value", s.Namespace, s.Name, LabelServer)
	case srv.Host == "" || srv.AdminUser == "" || srv.AdminPassword == "":
		return Server{}, fmt.Errorf("database server %s: %s, %s and %s are required", srv.Name, KeyHost, KeyUsername, KeyPassword)
	case len(srv.CACert) == 0:
		return Server{}, fmt.Errorf("database server %s: %s is required (connections are verified TLS only)", srv.Name, KeyCACert)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(srv.CACert) {
		return Server{}, fmt.Errorf("database server %s: %s holds no PEM certificate", srv.Name, KeyCACert)
	}
	for _, name := range []string{srv.AdminDatabase, srv.SharedDatabase, srv.SharedSchema, srv.TenantColumn} {
		if len(name) > maxIdentifier {
			return Server{}, fmt.Errorf("database server %s: %q is longer than PostgreSQL's %d-byte names", srv.Name, name, maxIdentifier)
		}
	}
	cidrs, err := egressCIDRs(srv.Host, get(KeyEgressCIDRs, ""))
	if err != nil {
		return Server{}, fmt.Errorf("database server %s: %w", srv.Name, err)
	}
	srv.EgressCIDRs = cidrs
	return srv, nil
}

// maxIdentifier is PostgreSQL's longest name (NAMEDATALEN-1): a longer one is cut, and never found again as given.
const maxIdentifier = 63

// egressCIDRs are the addresses tenants' pods may reach the server at: the list given, or the host's address. A
// NetworkPolicy opens addresses, not names; none may be link-local or a cloud metadata address.
func egressCIDRs(host, list string) ([]string, error) {
	var out []string
	if list == "" {
		addr, err := netip.ParseAddr(host)
		if err != nil {
			return nil, fmt.Errorf("host %q is a name: %s must list the server's addresses (NetworkPolicies open addresses, not names)", host, KeyEgressCIDRs)
		}
		list = netip.PrefixFrom(addr, addr.BitLen()).String()
	}
	for _, part := range strings.Split(list, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyEgressCIDRs, err)
		}
		for _, never := range render.NeverEgress() {
			if p.Overlaps(never) {
				return nil, fmt.Errorf("%s: %s overlaps %s, which no tenant may reach", KeyEgressCIDRs, p, never)
			}
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}

// Endpoint is where a tenant of model finds its database on srv, for its Secret and its NetworkPolicy.
func (srv Server) Endpoint(role string, model tenancyv1alpha1.DatabaseModel) *render.DatabaseEndpoint {
	database := srv.SharedDatabase
	if model == tenancyv1alpha1.DatabaseModelDatabasePerTenant {
		database = role
	}
	return &render.DatabaseEndpoint{Host: srv.Host, Port: srv.Port, CACert: srv.CACert, EgressCIDRs: srv.EgressCIDRs, Database: database}
}
