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

package metricsauth

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long a scrape's verdict is reused for the same token and path, so that a scraper every few seconds costs the
// apiserver two reviews a minute, not two per scrape. Refusals are remembered briefly: a binding just created
// takes effect within seconds.
const (
	metricsAllowTTL = time.Minute
	metricsDenyTTL  = 10 * time.Second
)

// Filter is the metrics endpoint's filter: every request is authenticated with a TokenReview and authorized
// with a SubjectAccessReview on its path, as controller-runtime's filters.WithAuthenticationAndAuthorization does.
// It uses client-go alone: that filter pulls in k8s.io/apiserver, which was 20 MB of a 54 MB binary and a good part
// of the operator's memory at start.
func Filter(c *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationclient.NewForConfigAndClient(c, httpClient)
	if err != nil {
		return nil, err
	}
	authz, err := authorizationclient.NewForConfigAndClient(c, httpClient)
	if err != nil {
		return nil, err
	}
	return newMetricsAuth(authn.TokenReviews(), authz.SubjectAccessReviews(), time.Now).filter, nil
}

type metricsAuth struct {
	tokens  authenticationclient.TokenReviewInterface
	access  authorizationclient.SubjectAccessReviewInterface
	now     func() time.Time
	mu      sync.Mutex
	verdict map[[sha256.Size]byte]cachedVerdict
}

type cachedVerdict struct {
	status  int
	expires time.Time
}

func newMetricsAuth(tokens authenticationclient.TokenReviewInterface, access authorizationclient.SubjectAccessReviewInterface, now func() time.Time) *metricsAuth {
	return &metricsAuth{tokens: tokens, access: access, now: now, verdict: map[[sha256.Size]byte]cachedVerdict{}}
}

func (m *metricsAuth) filter(log logr.Logger, handler http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		status, err := m.check(req)
		if err != nil {
			log.Error(err, "Checking a metrics request")
		}
		if status != http.StatusOK {
			http.Error(w, http.StatusText(status), status)
			return
		}
		handler.ServeHTTP(w, req)
	}), nil
}

// check returns 200 for a request whose bearer token is valid and allowed its verb on its path, 401 or 403
// otherwise, and 500 when the apiserver could not say.
func (m *metricsAuth) check(req *http.Request) (int, error) {
	scheme, token, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || token == "" {
		return http.StatusUnauthorized, nil
	}
	verb := strings.ToLower(req.Method)
	// The key is a hash: the cache never holds a token.
	key := sha256.Sum256([]byte(token + "\x00" + verb + "\x00" + req.URL.Path))
	now := m.now()
	m.mu.Lock()
	v, ok := m.verdict[key]
	m.mu.Unlock()
	if ok && now.Before(v.expires) {
		return v.status, nil
	}
	status, err := m.review(req.Context(), token, verb, req.URL.Path)
	if err != nil {
		return http.StatusInternalServerError, err
	}
	ttl := metricsDenyTTL
	if status == http.StatusOK {
		ttl = metricsAllowTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.verdict) > 1000 {
		// Tokens rotate; a bounded cache forgets the old ones wholesale.
		clear(m.verdict)
	}
	m.verdict[key] = cachedVerdict{status: status, expires: now.Add(ttl)}
	return status, nil
}

func (m *metricsAuth) review(ctx context.Context, token, verb, path string) (int, error) {
	tr, err := m.tokens.Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return 0, err
	}
	if !tr.Status.Authenticated {
		return http.StatusUnauthorized, nil
	}
	user := tr.Status.User
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for k, v := range user.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar, err := m.access.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb},
	}}, metav1.CreateOptions{})
	if err != nil {
		return 0, err
	}
	if !sar.Status.Allowed {
		return http.StatusForbidden, nil
	}
	return http.StatusOK, nil
}
