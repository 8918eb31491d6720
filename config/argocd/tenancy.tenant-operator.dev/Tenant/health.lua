-- Argo CD health check for Tenant (tenancy.tenant-operator.dev), in the form of Argo CD's
-- resource.customizations.health.tenancy.tenant-operator.dev_Tenant key of argocd-cm (see config/argocd).
--   being deleted, no status yet, or status older than the spec -> Progressing
--   phase Suspended (spec.suspended, every pod stopped)         -> Suspended
--   Ready=True                                                  -> Healthy
--   a condition False with a failure reason, or phase Failed    -> Degraded (the operator will not get there alone)
--   anything else (back-end starting, quota pending, ...)       -> Progressing
local hs = {status = "Progressing", message = "Waiting for tenant-operator to reconcile the Tenant"}
if obj.metadata.deletionTimestamp ~= nil then
  hs.message = "The Tenant is being deleted"
  return hs
end
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.status.observedGeneration == nil or obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "Waiting for tenant-operator to reconcile the latest spec"
  return hs
end
-- Reasons that need someone to act: another owner holds the namespace or an object, the apiserver refuses one, the
-- spec asks for egress into the cluster's own ranges, a retained namespace waits for the admin's decision, the
-- back-end cannot start (image not pulled, progress deadline exceeded, crashing), the TenantClass named does not
-- exist, or a shared object is missing or not marked shareable.
local failures = {NamespaceConflict = true, ReservedNamespace = true, ObjectConflict = true, ApplyFailed = true,
  ForbiddenCIDR = true, NamespaceRetained = true, BackendFailed = true, ClassNotFound = true,
  SharedObjectUnavailable = true}
local ready = nil
for _, c in ipairs(obj.status.conditions) do
  if c.status == "False" and failures[c.reason] then
    hs.status = "Degraded"
    hs.message = c.type .. ": " .. (c.message or c.reason)
    return hs
  end
  if c.type == "Ready" then
    ready = c
  end
end
if obj.status.phase == "Failed" then
  hs.status = "Degraded"
  hs.message = "The Tenant failed" .. (ready ~= nil and (": " .. (ready.message or "")) or "")
  return hs
end
if obj.status.phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = ready ~= nil and ready.message or "The tenant is suspended"
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "The tenant is provisioned"
  return hs
end
if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
end
return hs
