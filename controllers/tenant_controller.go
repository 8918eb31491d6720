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

package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Finalizer holds a Tenant until its deletion policy has been carried out.
const Finalizer = "tenancy.tenant-operator.dev/finalizer"

// TenantReconciler turns a Tenant into its namespace and everything in it.
type TenantReconciler struct {
	client.Client
	// APIReader reads what the label-filtered cache cannot see: objects the operator did not create.
	APIReader client.Reader
	Recorder  eventRecorder
	Config    Config
	CA        *CAProvider
	// Clock and Rand are injected so that rotation and expiry can be tested.
	Clock func() time.Time
	Rand  io.Reader

	MaxConcurrentReconciles int

	expectations expectations
	// secrets remembers the generated values the operator wrote, to restore them when deleted or overwritten.
	secrets secretMemory
	// phases is the phase each tenant's metric series last reported; pruned, the generation last pruned for;
	// statusWrites, the last status written (statusWrite); claims, the tenant that claimed each namespace this
	// process created and the cache does not show yet.
	phases, pruned, statusWrites, claims sync.Map
}

// Waits of the reconciler: for the cache to show an object just created, for the quota controller to take up a
// ResourceQuota just created, and between looks at someone else's object in the way.
const (
	cacheLagRequeue = time.Second
	quotaGrace      = 5 * time.Second
	conflictRecheck = 5 * time.Second
)

// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants,verbs=get;list;watch;patch;update
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tenancy.tenant-operator.dev,resources=tenants/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets;serviceaccounts;services;resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterroles;clusterrolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=tenant-operator-tenant-admin;tenant-operator-tenant-developer;tenant-operator-tenant-viewer
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Tenant's world to its desired state.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	tenant := &tenancyv1alpha1.Tenant{}
	if err := r.Get(ctx, req.NamespacedName, tenant); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !tenant.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, tenant)
	}
	if !controllerutil.ContainsFinalizer(tenant, Finalizer) {
		patch := client.MergeFrom(tenant.DeepCopy())
		controllerutil.AddFinalizer(tenant, Finalizer)
		if err := r.Patch(ctx, tenant, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	return r.reconcileNormal(ctx, tenant)
}

// reconcileNormal: claim the namespace, render the desired objects, apply them, prune the rest, report status.
func (r *TenantReconciler) reconcileNormal(ctx context.Context, t *tenancyv1alpha1.Tenant) (ctrl.Result, error) {
	problem, claimed, err := r.claimNamespace(ctx, t)
	if err != nil || problem != nil {
		if err != nil {
			return ctrl.Result{}, err
		}
		if !alreadyReported(t, tenancyv1alpha1.ConditionNamespaceReady, *problem) {
			r.event(t, corev1.EventTypeWarning, problem.reason, "Claim", problem.message)
		}
		status := failedStatus(t, *problem)
		r.recordMetrics(t, status, observedState{})
		return ctrl.Result{}, r.writeStatus(ctx, t, status)
	}
	observed, err := r.observe(ctx, t)
	if err != nil {
		return ctrl.Result{}, err
	}
	desired, err := computeDesiredState(t, r.Config, observed)
	if err != nil {
		return ctrl.Result{}, err
	}
	results := r.applyAll(ctx, t, desired, claimed)
	// What is desired only shrinks when the spec changes, or the tenants allowing this one in: pruning once per
	// change (and once after a start) spares every other pass a listing of twelve kinds.
	var pruneErr error
	if key := pruneKey(t, observed.allowedBy); !r.prunedFor(t.Name, key) {
		pruneErr = r.prune(ctx, t, desired)
		// A spec change may have removed owners: what they granted ends with their ownership. Checked with every
		// prune (after a start too, and again after a failed pass), but not for a tenant never provisioned, whose
		// namespace nobody could grant anything in yet.
		if t.Status.ObservedGeneration != 0 {
			pruneErr = errors.Join(pruneErr, r.revokeGrantsOfFormerOwners(ctx, t))
		}
		if pruneErr == nil {
			r.pruned.Store(t.Name, key)
		}
	}
	backend, err := r.backendStatus(ctx, t)
	if err != nil {
		return ctrl.Result{}, err
	}
	quotaEnforced, quotaCreatedAt, err := r.quotaState(ctx, t)
	if err != nil {
		return ctrl.Result{}, err
	}
	status := computeStatus(t, statusInputs{
		results: results, backend: backend, quotaEnforced: quotaEnforced, secrets: desired.secretTimes,
	})
	r.recordMetrics(t, status, observed)
	if err := errors.Join(results.err(), pruneErr); err != nil {
		return ctrl.Result{}, errors.Join(err, r.writeStatus(ctx, t, status))
	}
	result := requeueFor(desired.requeueAt, r.Clock())
	if results.conflicts {
		// Someone else's object holds a desired name. Most kinds are cached by the operator's label only, so its
		// deletion brings no event: look again shortly, at one read per conflicting object.
		result = sooner(result, conflictRecheck)
	}
	if results.requeueSoon && len(results.failures) == 0 {
		// Objects created moments ago are missing from the cache, so a status computed now would describe a state
		// already gone; their arrival in the cache brings the next pass.
		return sooner(result, cacheLagRequeue), nil
	}
	if wait := quotaWait(results, quotaEnforced, quotaCreatedAt, r.Clock()); wait > 0 && len(results.failures) == 0 {
		// The quota controller takes up a new ResourceQuota within moments, and its update brings the next pass.
		// Reporting QuotaPending in between would cost every new tenant one more status write for a state nobody
		// acts on, whatever other event brings a pass meanwhile; should the quota controller be slow, the requeue
		// reports it.
		return sooner(result, wait), nil
	}
	return result, r.writeStatus(ctx, t, status)
}

// prunedFor reports whether the tenant's last prune was for key (pruneKey).
func (r *TenantReconciler) prunedFor(tenant, key string) bool {
	last, ok := r.pruned.Load(tenant)
	return ok && last == key
}

func sooner(r ctrl.Result, after time.Duration) ctrl.Result {
	if r.RequeueAfter == 0 || after < r.RequeueAfter {
		r.RequeueAfter = after
	}
	return r
}

// problem is why a tenant, or one area of it, cannot be provisioned: a reason (an API constant) and a message.
type problem struct{ reason, message string }

// alreadyReported: the tenant's condition already states p, so its Warning was sent when it first did. Passes that
// find the same problem again (a recheck of a conflict) add no Event.
func alreadyReported(t *tenancyv1alpha1.Tenant, conditionType string, p problem) bool {
	c := meta.FindStatusCondition(t.Status.Conditions, conditionType)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == p.reason && strings.Contains(c.Message, p.message)
}

// observe gathers the current state the desired state depends on: the generated secrets, the tenants that allow
// this one in, and the CA.
func (r *TenantReconciler) observe(ctx context.Context, t *tenancyv1alpha1.Tenant) (observedState, error) {
	observed := observedState{secrets: map[string]*corev1.Secret{}, now: r.Clock(), rand: r.Rand}
	var secrets corev1.SecretList
	if err := r.List(ctx, &secrets, client.InNamespace(tenantNamespace(t)), client.MatchingLabels(managedLabels(t))); err != nil {
		return observed, err
	}
	for i := range secrets.Items {
		observed.secrets[secrets.Items[i].Name] = &secrets.Items[i]
	}
	r.secrets.restore(t.Name, observed.secrets, generatedSecretNames(t))
	allowedBy, err := r.allowingTenants(ctx, t)
	if err != nil {
		return observed, err
	}
	observed.allowedBy = allowedBy
	if t.Spec.Backend != nil {
		ca, err := r.CA.Get(ctx)
		if err != nil {
			return observed, fmt.Errorf("loading the operator's CA: %w", err)
		}
		observed.ca = ca
	}
	return observed, nil
}

// applyAll applies every desired object that is not already as desired, after checking it is not someone else's.
// It carries on past a failure so that one bad object does not hold back the others; the results say what happened
// to each area.
func (r *TenantReconciler) applyAll(ctx context.Context, t *tenancyv1alpha1.Tenant, desired *desiredState, namespaceCreated bool) applyResults {
	log := logf.FromContext(ctx)
	results := applyResults{}
	// What the spec asked for and the builders refused is the area's first failure: it needs the admin.
	for _, p := range desired.refused {
		results.fail(p.area, p.reason, p.message, nil)
	}
	// An area the operator has already brought to its desired state, for this very spec, should not see its objects
	// change: when they do, someone changed or deleted them, and this pass corrects drift.
	specObserved := t.Status.ObservedGeneration == t.Generation
	// In a namespace this pass created (namespaceCreated, or its apply below), nothing but what the operator creates
	// can exist yet (access is granted last), so objects missing from the cache need no second look at the apiserver.
	var created, updated []string
	for _, d := range desired.objects {
		kind := kindOf(d.obj)
		c, err := r.applyOne(ctx, t, d, namespaceCreated)
		switch {
		case err != nil:
			results.fail(d.area, tenancyv1alpha1.ReasonApplyFailed, fmt.Sprintf("applying %s %s: %v", kind, d.obj.GetName(), apierrors.ReasonForError(err)), err)
			continue
		case c == changePending:
			results.requeueSoon = true
			continue
		case c == changeConflict:
			r.objectConflict(t, d, &results)
			continue
		}
		if secret, ok := d.obj.(*corev1.Secret); ok {
			r.secrets.remember(t.Name, secret)
		}
		steady := specObserved && meta.IsStatusConditionTrue(t.Status.Conditions, string(d.area))
		switch {
		case c == changeCreated && kind == "Namespace":
			namespaceCreated = true
		case c == changeCreated && kind == "ResourceQuota":
			results.quotaCreated = true
		}
		switch {
		case c == changeNone:
		case c == changeRotated:
			secretRotations.WithLabelValues(d.obj.GetName()).Inc()
			r.event(t, corev1.EventTypeNormal, "SecretRotated", "Rotate", fmt.Sprintf("Rotated Secret %s/%s", d.obj.GetNamespace(), d.obj.GetName()))
			log.Info("Rotated secret", "secret", d.obj.GetName())
		case steady:
			how := map[change]string{changeCreated: "recreated", changeUpdated: "restored"}[c]
			r.driftCorrected(ctx, t, kind, d.obj, how)
		case c == changeCreated:
			created = append(created, kind)
			log.V(1).Info("Created object", "kind", kind, "name", d.obj.GetName())
		default:
			updated = append(updated, kind)
			log.V(1).Info("Updated object", "kind", kind, "name", d.obj.GetName())
		}
	}
	// One Event per pass and kind of change, not one per object: a new tenant creates a dozen objects at once.
	if len(created) > 0 {
		r.event(t, corev1.EventTypeNormal, "Created", "Apply", "Created "+countKinds(created))
	}
	if len(updated) > 0 {
		r.event(t, corev1.EventTypeNormal, "Updated", "Apply", "Updated "+countKinds(updated))
	}
	return results
}

// objectConflict reports someone else's object at a desired object's name: the area fails, and a Warning goes out
// when the conflict starts.
func (r *TenantReconciler) objectConflict(t *tenancyv1alpha1.Tenant, d desiredObject, results *applyResults) {
	msg := fmt.Sprintf("%s %s/%s exists and was not created by tenant-operator for this tenant; it was left untouched",
		kindOf(d.obj), d.obj.GetNamespace(), d.obj.GetName())
	results.fail(d.area, tenancyv1alpha1.ReasonObjectConflict, msg, nil)
	results.conflicts = true
	if !alreadyReported(t, string(d.area), problem{tenancyv1alpha1.ReasonObjectConflict, msg}) {
		r.event(t, corev1.EventTypeWarning, tenancyv1alpha1.ReasonObjectConflict, "Apply", msg)
	}
}

// change is what applying one desired object did.
type change int

const (
	changeNone     change = iota // already as desired, or the apply changed nothing
	changeCreated                // it did not exist
	changeUpdated                // it differed, and now is as desired
	changeRotated                // a generated secret got new values
	changePending                // created moments ago, not in the cache yet: left for the next pass
	changeConflict               // someone else's object holds the name: left untouched
)

// applyOne brings one desired object to its desired state, sending nothing when it already is.
func (r *TenantReconciler) applyOne(ctx context.Context, t *tenancyv1alpha1.Tenant, d desiredObject, inNewNamespace bool) (change, error) {
	want, err := toApplyConfiguration(d.obj, r.Scheme())
	if err != nil {
		return changeNone, err
	}
	current, pending, err := r.current(ctx, d.obj, inNewNamespace)
	switch {
	case err != nil:
		return changeNone, err
	case pending:
		return changePending, nil
	case current == nil:
		if err := apply(ctx, r.Client, want); err != nil {
			return changeNone, err
		}
		r.expectations.created(objectKey(d.obj))
		return changeCreated, nil
	case !isManagedBy(current, t.Name):
		return changeConflict, nil
	}
	if holdsForeignFields(current) {
		// Take them over first, so that the apply removes them (see foreign.go).
		if err := r.takeOverForeignFields(ctx, current); err != nil {
			return changeNone, err
		}
	} else if same, err := upToDate(current, want); err != nil || same {
		return changeNone, err
	}
	if err := apply(ctx, r.Client, want); err != nil {
		return changeNone, err
	}
	switch {
	case d.rotated:
		return changeRotated, nil
	case want.GetResourceVersion() == current.GetResourceVersion():
		// The apply changed nothing after all (a value the apiserver normalises).
		return changeNone, nil
	case inNewNamespace:
		// Only the namespace this pass claimed exists here before its apply: the apply completes its creation.
		return changeCreated, nil
	}
	return changeUpdated, nil
}

// countKinds describes a list of object kinds by count, in a stable order: "3 NetworkPolicy, 1 Secret".
func countKinds(kinds []string) string {
	counts := map[string]int{}
	for _, k := range kinds {
		counts[k]++
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	return strings.Join(parts, ", ")
}

func (r *TenantReconciler) driftCorrected(ctx context.Context, t *tenancyv1alpha1.Tenant, kind string, obj client.Object, how string) {
	driftCorrections.WithLabelValues(kind).Inc()
	msg := fmt.Sprintf("Drift corrected: %s %s %s", how, kind, objectRef(obj))
	r.event(t, corev1.EventTypeWarning, "DriftCorrected", "Apply", msg)
	logf.FromContext(ctx).Info("Corrected drift", "kind", kind, "name", obj.GetName(), "namespace", obj.GetNamespace(), "how", how)
}

// current reads the stored version of a desired object from the cache. The cache holds every namespace, cluster
// role and cluster role binding, but only the operator's objects of other kinds: one of those missing from the cache
// is read from the apiserver, so that an object someone else created under the same name is seen and left alone,
// unless it lives in a namespace this pass created. pending says the operator created the object moments ago and
// the cache has not caught up.
func (r *TenantReconciler) current(ctx context.Context, desired client.Object, inNewNamespace bool) (obj client.Object, pending bool, err error) {
	obj, err = newObjectLike(desired)
	if err != nil {
		return nil, false, err
	}
	key := client.ObjectKeyFromObject(desired)
	err = r.Get(ctx, key, obj)
	switch {
	case err == nil:
		r.expectations.observed(objectKey(desired))
		return obj, false, nil
	case !apierrors.IsNotFound(err):
		return nil, false, err
	case r.expectations.pending(objectKey(desired)):
		return nil, true, nil
	case completelyCached(desired) || inNewNamespace:
		return nil, false, nil
	}
	if err := r.APIReader.Get(ctx, key, obj); err != nil {
		return nil, false, client.IgnoreNotFound(err)
	}
	return obj, false, nil
}

// prune deletes the tenant's objects that are no longer desired (a secret removed from the spec, the back-end
// removed, an allowed tenant removed). Only objects carrying this tenant's labels are candidates.
func (r *TenantReconciler) prune(ctx context.Context, t *tenancyv1alpha1.Tenant, desired *desiredState) error {
	keep := map[string]bool{}
	for _, d := range desired.objects {
		keep[objectKey(d.obj)] = true
	}
	var errs []error
	for _, list := range prunableLists() {
		// Read-only: the listed objects are only compared and deleted.
		opts := []client.ListOption{client.MatchingLabels(managedLabels(t)), client.UnsafeDisableDeepCopy}
		if list.namespaced {
			opts = append(opts, client.InNamespace(tenantNamespace(t)))
		}
		if err := r.List(ctx, list.list, opts...); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, obj := range list.items() {
			if keep[list.kind+"/"+obj.GetNamespace()+"/"+obj.GetName()] {
				continue
			}
			if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				errs = append(errs, err)
				continue
			}
			logf.FromContext(ctx).Info("Pruned object", "kind", list.kind, "name", obj.GetName(), "namespace", obj.GetNamespace())
			r.event(t, corev1.EventTypeNormal, "Pruned", "Delete", fmt.Sprintf("Deleted %s %s, no longer desired", list.kind, objectRef(obj)))
		}
	}
	return errors.Join(errs...)
}

// backendStatus reads the back-end's Deployment, and why it cannot start if it cannot; nil without a back-end.
func (r *TenantReconciler) backendStatus(ctx context.Context, t *tenancyv1alpha1.Tenant) (*backendObservation, error) {
	if t.Spec.Backend == nil {
		return nil, nil
	}
	d := &appsv1.Deployment{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: tenantNamespace(t), Name: BackendName}, d); err != nil {
		if apierrors.IsNotFound(err) {
			return &backendObservation{}, nil
		}
		return nil, err
	}
	if d.Status.ReadyReplicas >= ptr.Deref(d.Spec.Replicas, 1) && len(d.Status.Conditions) == 0 {
		return &backendObservation{deployment: d}, nil
	}
	// Not ready: the pods (cached slim, see slimBackendPod) may say why it never will be.
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(tenantNamespace(t)), client.MatchingLabels(backendSelector(t))); err != nil {
		return nil, err
	}
	return &backendObservation{deployment: d, failure: backendFailure(d, pods.Items)}, nil
}

// quotaState reports whether the quota controller has taken up the tenant's ResourceQuota (until then, admission
// does not enforce it), and when the quota was created, if it exists.
func (r *TenantReconciler) quotaState(ctx context.Context, t *tenancyv1alpha1.Tenant) (enforced bool, createdAt time.Time, err error) {
	q := &corev1.ResourceQuota{}
	err = r.Get(ctx, client.ObjectKey{Namespace: tenantNamespace(t), Name: QuotaName}, q)
	if apierrors.IsNotFound(err) {
		return false, time.Time{}, nil
	}
	return err == nil && len(q.Status.Hard) > 0, q.CreationTimestamp.Time, err
}

// quotaWait is how much longer the status may wait for the quota controller: the rest of quotaGrace after the
// quota's creation (by this pass, or by an earlier one), nothing once it is enforced or the grace is over. A
// creation time ahead of the clock (skew, or a test's clock) waits for nothing.
func quotaWait(results applyResults, enforced bool, createdAt, now time.Time) time.Duration {
	switch {
	case enforced:
		return 0
	case results.quotaCreated:
		return quotaGrace
	case createdAt.IsZero():
		return 0
	}
	if age := now.Sub(createdAt); age >= 0 && age < quotaGrace {
		return max(quotaGrace-age, time.Second)
	}
	return 0
}

// reconcileDelete carries out the deletion policy, then lets the Tenant go.
func (r *TenantReconciler) reconcileDelete(ctx context.Context, t *tenancyv1alpha1.Tenant) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(t, Finalizer) {
		return ctrl.Result{}, nil
	}
	if err := r.writeStatus(ctx, t, terminatingStatus(t)); err != nil {
		return ctrl.Result{}, err
	}
	var done bool
	var err error
	if t.Spec.DeletionPolicy == tenancyv1alpha1.DeletionPolicyDelete {
		done, err = r.deleteNamespace(ctx, t)
	} else {
		done, err = r.retainNamespace(ctx, t)
	}
	if err != nil || !done {
		// Namespace deletion is watched; the periodic check is a safety net.
		return ctrl.Result{RequeueAfter: 5 * time.Second}, err
	}
	if err := r.deleteOwnerAccess(ctx, t); err != nil {
		return ctrl.Result{}, err
	}
	tenantPhase.DeletePartialMatch(map[string]string{metricTenant: t.Name})
	r.phases.Delete(t.Name)
	r.pruned.Delete(t.Name)
	r.statusWrites.Delete(t.Name)
	r.secrets.forget(t.Name)
	certificateExpiry.DeleteLabelValues(t.Name)
	patch := client.MergeFrom(t.DeepCopy())
	controllerutil.RemoveFinalizer(t, Finalizer)
	return ctrl.Result{}, r.Patch(ctx, t, patch)
}

// deleteNamespace deletes the tenant's namespace (only if it is the tenant's) and reports whether it is gone.
func (r *TenantReconciler) deleteNamespace(ctx context.Context, t *tenancyv1alpha1.Tenant) (bool, error) {
	ns := &corev1.Namespace{}
	err := r.Get(ctx, client.ObjectKey{Name: tenantNamespace(t)}, ns)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !isManagedBy(ns, t.Name) {
		return true, nil // never ours: nothing to delete
	}
	if ns.DeletionTimestamp.IsZero() {
		if err := r.Delete(ctx, ns); client.IgnoreNotFound(err) != nil {
			return false, err
		}
		r.event(t, corev1.EventTypeNormal, "NamespaceDeleted", "Delete", "Deleting namespace "+ns.Name+" (deletionPolicy Delete)")
	}
	return false, nil
}

// retainNamespace keeps the namespace and its data but revokes all access, scales the back-end to zero and marks the
// namespace retained. A new Tenant of the same name takes it back.
func (r *TenantReconciler) retainNamespace(ctx context.Context, t *tenancyv1alpha1.Tenant) (bool, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: tenantNamespace(t)}, ns); err != nil || !isManagedBy(ns, t.Name) {
		return true, client.IgnoreNotFound(err)
	}
	// The quota first: once it allows no pods, the workloads' controllers cannot start again what is stopped next.
	// Then default-deny, which a tenant deleted while it was provisioning may not have had yet.
	if err := applyObject(ctx, r.Client, retainedQuota(t)); err != nil {
		return false, err
	}
	if err := applyObject(ctx, r.Client, defaultDeny(t)); err != nil {
		return false, err
	}
	if err := r.revokeEverything(ctx, ns.Name); err != nil {
		return false, err
	}
	if t.Spec.Backend != nil {
		deployment, _, _ := desiredBackend(t, "", ptr.To[int32](0))
		d := &appsv1.Deployment{}
		err := r.Get(ctx, client.ObjectKeyFromObject(deployment), d)
		if err == nil && isManagedBy(d, t.Name) {
			// Keep the pod template as it runs, so that scaling down rolls nothing.
			deployment.Spec.Template.Annotations = d.Spec.Template.Annotations
			if err := applyObject(ctx, r.Client, deployment); err != nil {
				return false, err
			}
		} else if client.IgnoreNotFound(err) != nil {
			return false, err
		}
	}
	retained := desiredNamespace(t)
	if retained.Annotations == nil {
		retained.Annotations = map[string]string{}
	}
	retained.Annotations[AnnotationRetained] = "true"
	if err := applyObject(ctx, r.Client, retained); err != nil {
		return false, err
	}
	r.event(t, corev1.EventTypeNormal, "NamespaceRetained", "Delete",
		"Retained namespace "+ns.Name+": every binding, ServiceAccount and pod removed, no pods allowed, back-end scaled to zero (deletionPolicy Retain)")
	return true, nil
}

func (r *TenantReconciler) deleteOwnerAccess(ctx context.Context, t *tenancyv1alpha1.Tenant) error {
	for _, obj := range []client.Object{
		&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRole{},
	} {
		obj.SetName(ownerAccessName(t))
		if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return nil
}

// writeStatus writes status once, and only when it changed. A pass that starts before the cache shows the
// previous pass's write sees the old status: if that write was of this very status, it is not sent again.
func (r *TenantReconciler) writeStatus(ctx context.Context, t *tenancyv1alpha1.Tenant, status tenancyv1alpha1.TenantStatus) error {
	if statusEqual(t.Status, status) {
		return nil
	}
	written := statusDigest(status)
	if last, ok := r.statusWrites.Load(t.Name); ok && last == (statusWrite{before: t.ResourceVersion, status: written}) {
		return nil
	}
	before := t.ResourceVersion
	patch := client.MergeFrom(t.DeepCopy())
	t.Status = status
	if err := r.Status().Patch(ctx, t, patch); err != nil {
		return err
	}
	r.statusWrites.Store(t.Name, statusWrite{before: before, status: written})
	return nil
}

// statusWrite is the last status the operator wrote for a tenant, and the Tenant's resourceVersion it was written
// over: while the cache still shows that version, the write is not in the cache yet.
type statusWrite struct{ before, status string }

// statusDigest identifies a status but for its conditions' transition times, which a pass computing from a stale
// status sets anew.
func statusDigest(s tenancyv1alpha1.TenantStatus) string {
	s.Conditions = slices.Clone(s.Conditions)
	for i := range s.Conditions {
		s.Conditions[i].LastTransitionTime = metav1.Time{}
	}
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return string(sum[:16])
}

func (r *TenantReconciler) recordMetrics(t *tenancyv1alpha1.Tenant, s tenancyv1alpha1.TenantStatus, observed observedState) {
	// One series per tenant, its current phase: four per tenant (three of them 0) cost memory and scrape time for
	// nothing an alert needs.
	if previous, seen := r.phases.Swap(t.Name, s.Phase); !seen || previous != s.Phase {
		tenantPhase.DeletePartialMatch(map[string]string{metricTenant: t.Name})
		tenantPhase.WithLabelValues(t.Name, string(s.Phase)).Set(1)
	}
	if cert := parseCertificate(observed.secrets[TLSSecretName]); cert != nil && t.Spec.Backend != nil {
		certificateExpiry.WithLabelValues(t.Name).Set(float64(cert.NotAfter.Unix()))
	}
	for _, c := range s.Conditions {
		if c.Status == "False" && c.Reason != tenancyv1alpha1.ReasonProgressing {
			reconcileErrors.WithLabelValues(c.Reason).Inc()
		}
	}
}

func requeueFor(at, now time.Time) ctrl.Result {
	if at.IsZero() {
		return ctrl.Result{}
	}
	return ctrl.Result{RequeueAfter: max(at.Sub(now), time.Second)}
}

// SetupWithManager registers the reconciler: Tenants, and every kind it manages, mapped back to their Tenant by label.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexTenants(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		// The cache keeps no annotations of Tenants (slimTenant): none changes what the operator does.
		For(&tenancyv1alpha1.Tenant{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{}, deletionPredicate()))).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("tenant")
	toTenant := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		if name := obj.GetLabels()[LabelTenant]; name != "" && obj.GetLabels()[LabelManagedBy] == ManagedByValue {
			return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: name}}}
		}
		return nil
	})
	for _, obj := range managedKinds() {
		b = b.Watches(obj, toTenant, builder.WithPredicates(r.changesThatMatter()))
	}
	// Back-end pods carry the tenant's label, not the operator's: they are the Deployment's.
	b = b.Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: obj.GetLabels()[LabelTenant]}}}
	}), builder.WithPredicates(r.changesThatMatter()))
	b = b.Watches(&tenancyv1alpha1.Tenant{}, enqueueAllowedTenants()).
		Watches(&corev1.Namespace{}, r.enqueueClaimants())
	return b.Complete(r)
}

// changesThatMatter lets through the updates of managed objects that change what the cache keeps of them (owned
// fields, labels, the status the operator reads): a status the operator ignores brings no pass.
func (r *TenantReconciler) changesThatMatter() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			before, after := e.ObjectOld.DeepCopyObject().(client.Object), e.ObjectNew.DeepCopyObject().(client.Object)
			before.SetResourceVersion("")
			after.SetResourceVersion("")
			return !equality.Semantic.DeepEqual(before, after)
		},
	}
}

// deletionPredicate passes updates that start a deletion (finalizers and deletionTimestamp change no generation).
func deletionPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}

// managedKinds are the kinds the operator creates, watched (and cached) by label.
func managedKinds() []client.Object {
	return []client.Object{
		&corev1.Namespace{}, &networkingv1.NetworkPolicy{}, &rbacv1.RoleBinding{}, &rbacv1.ClusterRole{},
		&rbacv1.ClusterRoleBinding{}, &corev1.ResourceQuota{}, &corev1.LimitRange{}, &corev1.ServiceAccount{},
		&corev1.Secret{}, &appsv1.Deployment{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{},
	}
}
