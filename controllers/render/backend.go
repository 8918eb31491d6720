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
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

const (
	defaultBackendPort = 8080
	// backendUID is the non-root user the back-end runs as, whatever its image says (distroless' "nonroot").
	backendUID   = 65532
	tlsMountPath = "/etc/tenant/tls"
	// AnnotationSecretsVersion on the pod template changes when a generated secret rotates, which rolls the pods.
	AnnotationSecretsVersion = "tenancy.tenant-operator.dev/secrets-version"
)

func BackendPort(b *tenancyv1alpha1.BackendSpec) int32 {
	if b.Port != nil {
		return *b.Port
	}
	return defaultBackendPort
}

func backendReplicas(b *tenancyv1alpha1.BackendSpec) int32 {
	if b.Replicas != nil {
		return *b.Replicas
	}
	return 1
}

// backendSelector selects the tenant's back-end pods.
func BackendSelector(t *tenancyv1alpha1.Tenant) map[string]string {
	return map[string]string{"app.kubernetes.io/name": BackendName, LabelTenant: t.Name}
}

// desiredServiceAccount is the back-end's identity. It mounts no API token: the back-end has no business with the
// Kubernetes API.
func desiredServiceAccount(t *tenancyv1alpha1.Tenant) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: objectMeta(t, BackendName), AutomountServiceAccountToken: ptr.To(false)}
}

// desiredBackend is the back-end's Deployment, Service and, with more than one replica, PodDisruptionBudget.
// secretsVersion identifies the current values of the generated secrets; when it changes the pods roll. replicas
// overrides spec.backend.replicas (a retained tenant is scaled to zero).
// With database, the back-end gets the tenant's database credentials (databaseEnv) and the server's CA.
func desiredBackend(t *tenancyv1alpha1.Tenant, secretsVersion string, replicas *int32, database bool) (*appsv1.Deployment, *corev1.Service, *policyv1.PodDisruptionBudget) {
	b := t.Spec.Backend
	if b == nil {
		return nil, nil, nil
	}
	if replicas == nil {
		replicas = ptr.To(backendReplicas(b))
	}
	// Pods (and their ReplicaSets) carry no managed-by label: they are the Deployment's, not the operator's, so the
	// guardrails let tenants restart them and let the kubelet and controllers do their work.
	podLabels := BackendSelector(t)
	port := BackendPort(b)

	container := corev1.Container{
		Name:            BackendName,
		Image:           b.Image,
		ImagePullPolicy: corev1.PullAlways,
		Command:         b.Command,
		Args:            b.Args,
		Ports:           []corev1.ContainerPort{{Name: "backend", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
		Env:             backendEnv(t),
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("backend")}},
			PeriodSeconds: 10,
		},
		SecurityContext: &corev1.SecurityContext{
			RunAsNonRoot:             ptr.To(true),
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "tls", MountPath: tlsMountPath, ReadOnly: true},
			{Name: "tmp", MountPath: "/tmp"},
		},
	}
	if b.Resources != nil {
		container.Resources = *b.Resources
	}
	var volumes []corev1.Volume
	if database {
		volume, mount := databaseVolume()
		container.Env = append(container.Env, databaseEnv()...)
		container.VolumeMounts = append(container.VolumeMounts, mount)
		volumes = append(volumes, volume)
	}

	nodeSelector, tolerations := placement(t)
	deployment := &appsv1.Deployment{
		ObjectMeta: objectMeta(t, BackendName),
		Spec: appsv1.DeploymentSpec{
			Replicas: replicas,
			Selector: &metav1.LabelSelector{MatchLabels: BackendSelector(t)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      podLabels,
					Annotations: map[string]string{AnnotationSecretsVersion: secretsVersion},
				},
				Spec: corev1.PodSpec{
					ServiceAccountName:           BackendName,
					AutomountServiceAccountToken: ptr.To(false),
					RuntimeClassName:             b.RuntimeClassName,
					EnableServiceLinks:           ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](backendUID),
						RunAsGroup:     ptr.To[int64](backendUID),
						FSGroup:        ptr.To[int64](backendUID),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					NodeSelector: nodeSelector,
					Tolerations:  tolerations,
					Containers:   []corev1.Container{container},
					Volumes: append([]corev1.Volume{
						{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName: TLSSecretName, DefaultMode: ptr.To[int32](0o440),
						}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					}, volumes...),
				},
			},
		},
	}
	service := &corev1.Service{
		ObjectMeta: objectMeta(t, BackendName),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: BackendSelector(t),
			Ports:    []corev1.ServicePort{{Name: "backend", Port: port, TargetPort: intstr.FromString("backend"), Protocol: corev1.ProtocolTCP}},
		},
	}
	var pdb *policyv1.PodDisruptionBudget
	if *replicas > 1 {
		pdb = &policyv1.PodDisruptionBudget{
			ObjectMeta: objectMeta(t, BackendName),
			Spec: policyv1.PodDisruptionBudgetSpec{
				MaxUnavailable: ptr.To(intstr.FromInt32(1)),
				Selector:       &metav1.LabelSelector{MatchLabels: BackendSelector(t)},
				// A back-end that never becomes ready (a bad image) must not block node drains: its pods may go.
				UnhealthyPodEvictionPolicy: ptr.To(policyv1.AlwaysAllow),
			},
		}
	}
	return deployment, service, pdb
}

// backendEnv: the tenant's identity, the TLS files, each generated secret's keys (by reference, never by value) and
// the spec's own variables.
func backendEnv(t *tenancyv1alpha1.Tenant) []corev1.EnvVar {
	env := []corev1.EnvVar{
		{Name: "TENANT_NAME", Value: t.Name},
		{Name: "TENANT_NAMESPACE", Value: TenantNamespace(t)},
		{Name: "TLS_CERT_FILE", Value: tlsMountPath + "/tls.crt"},
		{Name: "TLS_KEY_FILE", Value: tlsMountPath + "/tls.key"},
		{Name: "TLS_CA_FILE", Value: tlsMountPath + "/ca.crt"},
	}
	for _, s := range t.Spec.Secrets {
		for _, key := range secretKeys(s) {
			env = append(env, corev1.EnvVar{
				Name: envName(s.Name + "_" + key),
				ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: s.Name}, Key: key,
				}},
			})
		}
	}
	for _, e := range t.Spec.Backend.Env {
		env = append(env, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	return env
}

// envName turns "db-creds_password" into "DB_CREDS_PASSWORD".
func envName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		default:
			return '_'
		}
	}, s)
}

// BackendPodSelector selects the back-end pods of every tenant.
func BackendPodSelector() labels.Selector {
	name, _ := labels.NewRequirement("app.kubernetes.io/name", selection.Equals, []string{BackendName})
	tenant, _ := labels.NewRequirement(LabelTenant, selection.Exists, nil)
	return labels.NewSelector().Add(*name, *tenant)
}
