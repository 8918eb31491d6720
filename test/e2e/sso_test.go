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

package e2e

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// oidcAudience is the audience of the test issuer's ID tokens, as config/authentication expects it.
const oidcAudience = "kubernetes"

// oidcIssuer is a small OpenID Connect provider on loopback: discovery, a JWKS and signed ID tokens, so that the
// apiserver's structured authentication runs against a real issuer.
type oidcIssuer struct {
	server *httptest.Server
	key    *rsa.PrivateKey
}

func startIssuer() (*oidcIssuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	iss := &oidcIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.server.URL, "jwks_uri": iss.server.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		b64 := base64.RawURLEncoding.EncodeToString
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "test",
			"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	iss.server = httptest.NewTLSServer(mux)
	return iss, nil
}

// authenticationConfig is config/authentication/authentication-config.yaml pointed at this issuer.
func (iss *oidcIssuer) authenticationConfig(repoRoot string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, "config", "authentication", "authentication-config.yaml"))
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return "", err
	}
	jwt, ok := cfg["jwt"].([]any)
	if !ok || len(jwt) != 1 {
		return "", fmt.Errorf("config/authentication: want one jwt authenticator, got %v", cfg["jwt"])
	}
	issuer := jwt[0].(map[string]any)["issuer"].(map[string]any)
	if issuer["audiences"].([]any)[0] != oidcAudience {
		return "", fmt.Errorf("config/authentication: audiences %v", issuer["audiences"])
	}
	issuer["url"] = iss.server.URL
	issuer["certificateAuthority"] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: iss.server.Certificate().Raw}))
	out, err := yaml.Marshal(cfg)
	return string(out), err
}

// idToken is an RS256-signed ID token with the standard claims and extra, signed by key (the issuer's by default).
func (iss *oidcIssuer) idToken(t *testing.T, extra map[string]any, mutate ...func(claims map[string]any, key **rsa.PrivateKey)) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{
		"iss": iss.server.URL, "aud": oidcAudience, "sub": "user-1", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		"email_verified": true,
	}
	for k, v := range extra {
		claims[k] = v
	}
	key := iss.key
	for _, m := range mutate {
		m(claims, &key)
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := enc(map[string]string{"alg": "RS256", "kid": "test", "typ": "JWT"}) + "." + enc(claims)
	digest := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// withToken is a clientset presenting an ID token to the local apiserver, and nothing else.
func withToken(t *testing.T, token string) *kubernetes.Clientset {
	t.Helper()
	cfg := &rest.Config{Host: cluster.Config.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: cluster.Config.CAData}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
