{{/* Environment of the canary-analyzer (values.canary). */}}
{{- define "capstan.canaryAnalyzerEnv" -}}
- name: METRICS_SERVER
  value: {{ .Values.canary.metricsServer | quote }}
- name: MESH_PROVIDER
  value: {{ .Values.canary.meshProvider | quote }}
# Identity in the per-Canary Leases: the pod's name.
- name: REPLICA_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
