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

package auditsink

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/controllers/render"
)

const (
	// MaxBodyBytes bounds one batch: the apiserver's default batch is 400 events, a few hundred kilobytes at the
	// Metadata and Request levels of config/audit.
	MaxBodyBytes = 32 << 20
	// MaxInFlight batches are decoded at once; more are answered 429, which the apiserver retries.
	MaxInFlight = 2
	// DefaultMaxUsersPerTenant bounds the users counted by name in a tenant at a time; more count as OtherUsers.
	DefaultMaxUsersPerTenant = 100
	// MaxUsers bounds the users counted by name over all tenants.
	MaxUsers = 10000
	// UserIdleAfter frees a user's place, and drops its series, when none of its requests was refused for this long:
	// longer than the hour the alert looks back.
	UserIdleAfter = 2 * time.Hour
	// OtherUsers is the user label of refusals past a tenant's first MaxUsersPerTenant users.
	OtherUsers = "(other users)"
)

// Counter counts one refusal of a user's request in a tenant's namespace; Forget drops a user's series.
type Counter interface {
	Count(tenant, user, deniedBy string)
	Forget(tenant, user string)
}

// Handler is the audit webhook's receiver: it decodes a batch, keeps the refusals in namespaces the operator
// manages (by their tenant label, which tenant users cannot set) and counts them. It must be served behind
// authentication and authorization: an event it is sent is taken as the apiserver's word.
type Handler struct {
	// Namespaces reads namespaces, from the manager's cache.
	Namespaces client.Reader
	Counter    Counter
	// MaxUsersPerTenant defaults to DefaultMaxUsersPerTenant.
	MaxUsersPerTenant int
	// Now defaults to time.Now.
	Now func() time.Time

	inFlight chan struct{}
	once     sync.Once
	mu       sync.Mutex
	// seen is when each tenant's users were last refused; users counts them.
	seen  map[string]map[string]time.Time
	users int
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST an audit.k8s.io/v1 EventList", http.StatusMethodNotAllowed)
		return
	}
	h.once.Do(func() { h.inFlight = make(chan struct{}, MaxInFlight) })
	select {
	case h.inFlight <- struct{}{}:
		defer func() { <-h.inFlight }()
	default:
		http.Error(w, "busy", http.StatusTooManyRequests)
		return
	}
	var list EventList
	if err := json.NewDecoder(io.LimitReader(req.Body, MaxBodyBytes)).Decode(&list); err != nil {
		http.Error(w, "not an audit.k8s.io/v1 EventList", http.StatusBadRequest)
		return
	}
	denials := Denials(list.Items)
	// Every tenant first, and only then any count: a batch refused for a retry is counted once, when it gets through.
	tenants, err := h.tenantsOf(req.Context(), denials)
	if err != nil {
		// The apiserver retries a batch that failed, then drops it: never block it for long.
		http.Error(w, "namespaces not readable yet", http.StatusServiceUnavailable)
		return
	}
	for _, d := range denials {
		if tenant := tenants[d.Namespace]; tenant != "" {
			h.Counter.Count(tenant, h.userLabel(tenant, d.User), d.DeniedBy)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// tenantsOf resolves the tenant of each refusal's namespace: "" for a namespace the operator does not manage.
func (h *Handler) tenantsOf(ctx context.Context, denials []Denial) (map[string]string, error) {
	tenants := map[string]string{}
	for _, d := range denials {
		if _, seen := tenants[d.Namespace]; seen {
			continue
		}
		ns := &corev1.Namespace{}
		err := h.Namespaces.Get(ctx, client.ObjectKey{Name: d.Namespace}, ns)
		switch {
		case apierrors.IsNotFound(err):
			tenants[d.Namespace] = ""
		case err != nil:
			return nil, err
		case ns.Labels[render.LabelManagedBy] != render.ManagedByValue:
			tenants[d.Namespace] = ""
		default:
			tenants[d.Namespace] = ns.Labels[render.LabelTenant]
		}
	}
	return tenants, nil
}

// userLabel is the user, or OtherUsers once the tenant has MaxUsersPerTenant others (or all tenants MaxUsers): every
// identity an OIDC provider issues, or a ServiceAccount a tenant makes, can be refused, and must not grow the series
// without bound. Users idle for UserIdleAfter free their place and their series.
func (h *Handler) userLabel(tenant, user string) string {
	limit := h.MaxUsersPerTenant
	if limit <= 0 {
		limit = DefaultMaxUsersPerTenant
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = map[string]map[string]time.Time{}
	}
	known := h.seen[tenant]
	if known == nil {
		known = map[string]time.Time{}
		h.seen[tenant] = known
	}
	if _, ok := known[user]; !ok {
		h.forgetIdle(tenant, known, now)
		if len(known) >= limit || h.users >= MaxUsers {
			return OtherUsers
		}
		h.users++
	}
	known[user] = now
	return user
}

// forgetIdle drops the tenant's users idle for UserIdleAfter, with their series.
func (h *Handler) forgetIdle(tenant string, known map[string]time.Time, now time.Time) {
	for user, last := range known {
		if now.Sub(last) >= UserIdleAfter {
			delete(known, user)
			h.users--
			h.Counter.Forget(tenant, user)
		}
	}
}
