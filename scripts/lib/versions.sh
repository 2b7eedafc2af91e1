# Pinned versions of everything the local environment builds or downloads.
# Sourced by the scripts in scripts/; the Node side reads the same values from
# libs/testing (keep them in step).
KUBE_VERSION=v1.35.4          # tools/kube/go.mod pins the same
ETCD_VERSION=v3.6.16          # tools/etcd/go.mod pins the same
KWOK_VERSION=v0.7.0
HELM_VERSION=v3.19.5
KUSTOMIZE_VERSION=v5.8.1
NODE_VERSION=24.21.0
CAPSTAN_CACHE=${CAPSTAN_CACHE:-$HOME/.cache/capstan}
export KUBE_VERSION ETCD_VERSION KWOK_VERSION HELM_VERSION KUSTOMIZE_VERSION NODE_VERSION CAPSTAN_CACHE
