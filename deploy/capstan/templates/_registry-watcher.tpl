{{/*
Environment of the registry-watcher: webhook secrets from a Secret, the automation's commit
author and the per-registry request budget (values.imageAutomation).
*/}}
{{- define "capstan.registryWatcherEnv" -}}
{{- $ia := .Values.imageAutomation | default dict }}
{{- with $ia.webhookSecretName }}
- name: REGISTRY_WEBHOOK_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ . | quote }}, key: token}
- name: REGISTRY_WEBHOOK_HMAC_SECRET
  valueFrom:
    secretKeyRef: {name: {{ . | quote }}, key: hmacSecret, optional: true}
{{- end }}
{{- with $ia.author }}
- name: AUTOMATION_AUTHOR_NAME
  value: {{ .name | default "Capstan" | quote }}
- name: AUTOMATION_AUTHOR_EMAIL
  value: {{ .email | default "capstan@capstan.dev" | quote }}
{{- end }}
- name: REGISTRY_RPS
  value: {{ $ia.registryRps | default 200 | quote }}
- name: REGISTRY_BURST
  value: {{ $ia.registryBurst | default 125 | quote }}
{{- end -}}
