{{/*
ClusterRole rules the audit service needs for the web console's Overview (and the
capstan_sync_ready / capstan_resource_ready metrics): read every Capstan object it lists. Only
needed without rbac.clusterAdmin.
*/}}
{{- define "capstan.auditConsoleRules" -}}
{{- if and .Values.services.audit.enabled (not .Values.rbac.clusterAdmin) -}}
- apiGroups: ["capstan.dev"]
  resources: ["syncs", "gitrepositories", "helmreleases", "canaries", "imagepolicies"]
  verbs: ["get", "list"]
- apiGroups: ["flagger.app"]
  resources: ["canaries"]
  verbs: ["get", "list"]
{{- end }}
{{- end }}

{{/*
The Secret whose `sessionSecret` seals console sessions: console.sessionSecretName, else the one
the chart creates (console-session-secret.yaml).
*/}}
{{- define "capstan.consoleSessionSecretName" -}}
{{- .Values.console.sessionSecretName | default (printf "%s-console-session" (include "capstan.fullname" .)) }}
{{- end }}

{{/*
The audit service's console settings. Every replica seals and opens sessions with the same key,
so a session works whichever replica answers and survives a restart.
*/}}
{{- define "capstan.auditConsoleEnv" -}}
- name: CONSOLE_SESSION_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "capstan.consoleSessionSecretName" . | quote }}
      key: sessionSecret
{{- end }}
