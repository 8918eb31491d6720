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

package render

import (
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// The tenant's database credentials: the Secret, its keys, where the back-end finds the server's CA, and the
// NetworkPolicy that lets the tenant's pods reach the server.
const (
	DatabaseSecretName = "database"
	PolicyDatabase     = "allow-database"
	DatabaseKeyHost    = "host"
	DatabaseKeyPort    = "port"
	DatabaseKeyName    = "database"
	DatabaseKeyUser    = "user"
	DatabaseKeyPass    = "password" //nolint:gosec // a key name
	DatabaseKeyCA      = "ca.crt"
	DatabaseKeyURL     = "DATABASE_URL"
	databaseMountPath  = "/var/run/tenant-operator/database"
	databasePassLength = 32
	// AnnotationDatabaseEgress on the database Secret records the server addresses its NetworkPolicy opens, so that
	// a tenant keeps its database as it is while its server's registration is missing or broken.
	AnnotationDatabaseEgress = "tenancy.tenant-operator.dev/database-egress"
)

// DatabaseEndpoint is where the tenant's database is, from its server's registration.
type DatabaseEndpoint struct {
	Host   string
	Port   int
	CACert []byte
	// EgressCIDRs are the server's addresses, which the tenant's pods may reach on Port.
	EgressCIDRs []string
	// Database is the tenant's database on the server: the shared one, or its own.
	Database string
}

// NeverEgress are the ranges no egress of a tenant's may reach, whatever the cluster (link-local, metadata).
func NeverEgress() []netip.Prefix { return forbiddenEgress(nil) }

// DatabaseEndpointFromSecret is where the tenant's database Secret says its database is: what the tenant keeps while
// its server's registration cannot be read. nil without a complete Secret.
func DatabaseEndpointFromSecret(s *corev1.Secret) *DatabaseEndpoint {
	if s == nil {
		return nil
	}
	port, err := strconv.Atoi(string(s.Data[DatabaseKeyPort]))
	egress := s.Annotations[AnnotationDatabaseEgress]
	if err != nil || len(s.Data[DatabaseKeyHost]) == 0 || len(s.Data[DatabaseKeyName]) == 0 || egress == "" {
		return nil
	}
	return &DatabaseEndpoint{Host: string(s.Data[DatabaseKeyHost]), Port: port, CACert: s.Data[DatabaseKeyCA],
		EgressCIDRs: strings.Split(egress, ","), Database: string(s.Data[DatabaseKeyName])}
}

// desiredDatabaseSecret holds what a client needs to connect, the password kept until rotationPeriod has passed since
// it was generated, or while held (the server could not take a new one). rotated reports a new password.
func desiredDatabaseSecret(t *tenancyv1alpha1.Tenant, ep *DatabaseEndpoint, existing *corev1.Secret, held bool, now time.Time,
	rand io.Reader) (secret *corev1.Secret, rotated bool, err error) {
	at := generatedAt(existing)
	password := []byte(nil)
	if existing != nil {
		password = existing.Data[DatabaseKeyPass]
	}
	period := t.Spec.Database.RotationPeriod
	due := period != nil && !now.Before(at.Add(period.Duration)) && !held
	if len(password) != databasePassLength || at.IsZero() || due {
		if password, err = randomString(rand, databasePassLength); err != nil {
			return nil, false, err
		}
		at, rotated = now.UTC().Truncate(time.Second), true
	}
	user := DatabaseRole(t)
	dsn := url.URL{
		Scheme: "postgres", User: url.UserPassword(user, string(password)),
		Host: net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port)), Path: "/" + ep.Database,
		RawQuery: url.Values{"sslmode": {"verify-full"}, "sslrootcert": {databaseMountPath + "/" + DatabaseKeyCA}}.Encode(),
	}
	secret = &corev1.Secret{ObjectMeta: objectMeta(t, DatabaseSecretName), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{
		DatabaseKeyHost: []byte(ep.Host), DatabaseKeyPort: []byte(strconv.Itoa(ep.Port)), DatabaseKeyName: []byte(ep.Database),
		DatabaseKeyUser: []byte(user), DatabaseKeyPass: password, DatabaseKeyCA: ep.CACert, DatabaseKeyURL: []byte(dsn.String()),
	}}
	secret.Annotations = map[string]string{AnnotationGenerated: at.Format(time.RFC3339),
		AnnotationDatabaseEgress: strings.Join(sortedCopy(ep.EgressCIDRs), ",")}
	return secret, rotated, nil
}

// DatabaseSecret is the tenant's database Secret among the desired objects, and whether this pass generated its
// password; nil without one.
func DatabaseSecret(d *Desired) (secret *corev1.Secret, rotated bool) {
	for _, o := range d.Objects {
		if s, ok := o.Obj.(*corev1.Secret); ok && s.Name == DatabaseSecretName {
			return s, o.Rotated
		}
	}
	return nil, false
}

// databasePolicy lets the tenant's pods reach the database server's addresses on its port, and nothing else of it.
func databasePolicy(t *tenancyv1alpha1.Tenant, ep *DatabaseEndpoint) *networkingv1.NetworkPolicy {
	peers := make([]networkingv1.NetworkPolicyPeer, 0, len(ep.EgressCIDRs))
	for _, cidr := range sortedCopy(ep.EgressCIDRs) {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	return egressPolicy(t, PolicyDatabase, peers, []networkingv1.NetworkPolicyPort{{
		Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(int32(ep.Port))), //nolint:gosec // a port, checked on registration
	}})
}

// databaseEnv is libpq's environment (which most PostgreSQL drivers read) and DATABASE_URL, every credential by
// reference to the Secret.
func databaseEnv() []corev1.EnvVar {
	ref := func(name, key string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: DatabaseSecretName}, Key: key,
		}}}
	}
	return []corev1.EnvVar{
		ref("PGHOST", DatabaseKeyHost), ref("PGPORT", DatabaseKeyPort), ref("PGDATABASE", DatabaseKeyName),
		ref("PGUSER", DatabaseKeyUser), ref("PGPASSWORD", DatabaseKeyPass),
		{Name: "PGSSLMODE", Value: "verify-full"}, {Name: "PGSSLROOTCERT", Value: databaseMountPath + "/" + DatabaseKeyCA},
		ref("DATABASE_URL", DatabaseKeyURL),
	}
}

// databaseVolume mounts the server's CA certificate, and only it, for verify-full.
func databaseVolume() (corev1.Volume, corev1.VolumeMount) {
	return corev1.Volume{Name: "database", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: DatabaseSecretName, DefaultMode: ptr.To[int32](0o440),
			Items: []corev1.KeyToPath{{Key: DatabaseKeyCA, Path: DatabaseKeyCA}},
		}}},
		corev1.VolumeMount{Name: "database", MountPath: databaseMountPath, ReadOnly: true}
}
