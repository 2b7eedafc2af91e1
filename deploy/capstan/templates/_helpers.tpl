{{/*
The services this chart deploys, in a fixed order (one Deployment each).
*/}}
{{- define "capstan.serviceNames" -}}
git-watcher registry-watcher reconciler canary-analyzer audit
{{- end }}

{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "capstan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: "<release>-capstan", or just the release name when it already contains
the chart name. Kept to 40 characters so "<fullname>-registry-watcher" fits the 63 of a label.
*/}}
{{- define "capstan.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart label value.
*/}}
{{- define "capstan.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "capstan.labels" -}}
helm.sh/chart: {{ include "capstan.chart" . }}
{{ include "capstan.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: capstan
{{- end }}

{{/*
Labels that select the objects of this release.
*/}}
{{- define "capstan.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capstan.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one service; call with (dict "root" $ "service" "<name>").
*/}}
{{- define "capstan.componentSelectorLabels" -}}
{{ include "capstan.selectorLabels" .root }}
app.kubernetes.io/component: {{ .service }}
{{- end }}

{{/*
Name of the objects of one service; call with (dict "root" $ "service" "<name>").
*/}}
{{- define "capstan.componentName" -}}
{{- printf "%s-%s" (include "capstan.fullname" .root) .service | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Image of one service; call with (dict "root" $ "service" "<name>").
*/}}
{{- define "capstan.image" -}}
{{- $img := .root.Values.image }}
{{- printf "%s/capstan-%s:%s" ($img.registry | trimSuffix "/") .service ($img.tag | default .root.Chart.AppVersion) }}
{{- end }}

{{/*
ServiceAccount the services run as.
*/}}
{{- define "capstan.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "capstan.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Secret and key holding DATABASE_URL for the services.
*/}}
{{- define "capstan.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- printf "%s-database" (include "capstan.fullname" .) }}
{{- end }}
{{- end }}

{{- define "capstan.databaseSecretKey" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecretKey }}
{{- else -}}
DATABASE_URL
{{- end }}
{{- end }}

{{/*
Secret holding DATABASE_URL for the migration hook Job. A pre-install hook runs before the
release's own objects exist, so unless an existing Secret is used the hook gets its own copy,
itself a hook created just before the Job and deleted once the hooks succeed.
*/}}
{{- define "capstan.migrationSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- printf "%s-migrate" (include "capstan.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Environment shared by every Capstan container; call with (dict "root" $ "service" "<name>" "secret" "<secret name>").
*/}}
{{- define "capstan.commonEnv" -}}
- name: SERVICE_NAME
  value: {{ .service | quote }}
- name: HTTP_PORT
  value: "8080"
- name: NATS_URL
  value: {{ .root.Values.nats.url | quote }}
- name: EVENT_PREFIX
  value: {{ .root.Values.nats.eventPrefix | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ include "capstan.databaseSecretKey" .root }}
- name: NATS_STREAM_REPLICAS
  value: {{ .root.Values.nats.streamReplicas | default 1 | quote }}
- name: SHARDS
  value: {{ .root.Values.sharding.shards | quote }}
- name: SHARD_LEASE_SECONDS
  value: {{ .root.Values.sharding.leaseSeconds | quote }}
- name: CLUSTER_NAME
  value: {{ .root.Values.clusterName | quote }}
- name: LOG_LEVEL
  value: {{ .root.Values.logLevel | quote }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}
