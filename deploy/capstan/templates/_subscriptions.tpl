{{/*
Environment of the audit container for webhook subscriptions (values.subscriptions).
*/}}
{{- define "capstan.auditSubscriptionsEnv" -}}
- name: AUDIT_SUBSCRIPTIONS
  value: {{ ternary "enabled" "disabled" .Values.subscriptions.enabled | quote }}
{{- if .Values.subscriptions.enabled }}
- name: WEBHOOK_MAX_ATTEMPTS
  value: {{ .Values.subscriptions.maxAttempts | quote }}
- name: WEBHOOK_BACKOFF_BASE_MS
  value: {{ .Values.subscriptions.backoffBaseMs | int64 | quote }}
- name: WEBHOOK_BACKOFF_MAX_MS
  value: {{ .Values.subscriptions.backoffMaxMs | int64 | quote }}
- name: WEBHOOK_TIMEOUT_MS
  value: {{ .Values.subscriptions.timeoutMs | int64 | quote }}
- name: WEBHOOK_CONCURRENCY
  value: {{ .Values.subscriptions.concurrency | quote }}
{{- end }}
{{- with .Values.console.url }}
- name: CONSOLE_URL
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
ClusterRole rules the audit service needs for webhook subscriptions: watch Subscriptions in every
namespace, write their status (lastDelivered, failures, pending...), and read the `token` key of
the Secret each one names as its HMAC key. Those Secrets live in the Subscriptions' own
namespaces, so `get` on secrets is cluster-wide; no list/watch: only the named ones are read.
Listed even with rbac.clusterAdmin, so they stay when that is turned off.
*/}}
{{- define "capstan.auditSubscriptionsRules" -}}
{{- if and .Values.subscriptions.enabled .Values.services.audit.enabled -}}
- apiGroups: ["capstan.dev"]
  resources: ["subscriptions"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["capstan.dev"]
  resources: ["subscriptions/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
{{- end }}
{{- end }}
