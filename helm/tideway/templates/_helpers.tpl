{{/* Naming and labels follow the prometheus-community charts' conventions. */}}

{{/* Chart name, overridable; 63 characters max (DNS label). */}}
{{- define "tideway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: <release>-<chart>, unless the release name already contains the chart name. */}}
{{- define "tideway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tideway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "tideway.labels" -}}
helm.sh/chart: {{ include "tideway.chart" . }}
{{ include "tideway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tideway
{{- end }}

{{- define "tideway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tideway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Per-service helpers take a dict: {root: $, key: "dwhLoader", svc: <values.services.dwhLoader>}.
The CLI name (`tideway <command>`) is the kebab-case of the values key.
*/}}
{{- define "tideway.command" -}}
{{- .key | kebabcase }}
{{- end }}

{{- define "tideway.componentName" -}}
{{- printf "%s-%s" (include "tideway.fullname" .root) (include "tideway.command" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tideway.componentLabels" -}}
{{ include "tideway.labels" .root }}
app.kubernetes.io/component: {{ include "tideway.command" . }}
{{- end }}

{{- define "tideway.componentSelectorLabels" -}}
{{ include "tideway.selectorLabels" .root }}
app.kubernetes.io/component: {{ include "tideway.command" . }}
{{- end }}

{{- define "tideway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tideway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tideway.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Prometheus job name of a service: the alert rules match up{job=~"tideway-.+"}. */}}
{{- define "tideway.jobName" -}}
{{- printf "tideway-%s" (include "tideway.command" .) }}
{{- end }}

{{/* True when a service is scaled by KEDA (then no HPA of ours and no fixed replicas). */}}
{{- define "tideway.kedaEnabled" -}}
{{- if and .svc.keda .svc.keda.enabled }}true{{ end }}
{{- end }}
{{- define "tideway.hpaEnabled" -}}
{{- if and .svc.hpa .svc.hpa.enabled }}true{{ end }}
{{- end }}

{{/*
Fails rendering, with the values path to set, when a service lacks a setting it cannot start
without (it would otherwise crash-loop with exit 2). A setting counts as given by env,
secretEnv (the service's or the common ones) or, for the rules/routes file, config.content.
*/}}
{{- define "tideway.checkRequired" -}}
{{- $required := dict "cdc" (list "CDC_DATABASE_URL") "dwhLoader" (list "DWH_DATABASE_URL") "alerting" (list "ALERTING_RULES") "bridge" (list "BRIDGE_ROUTES") }}
{{- range $name := (get $required .key | default list) }}
{{- $given := or (hasKey ($.svc.env | default dict) $name) (hasKey ($.svc.secretEnv | default dict) $name) (hasKey $.root.Values.commonEnv $name) (hasKey $.root.Values.commonSecretEnv $name) }}
{{- if and $.svc.config $.svc.config.content (eq ($.svc.config.env | default "") $name) }}{{ $given = true }}{{ end }}
{{- if not $given }}
{{- if eq $name "ALERTING_RULES" }}
{{- fail (printf "services.%s: the rules file is required: set services.%s.config.content (or env.%s to a file you mount), or services.%s.enabled=false" $.key $.key $name $.key) }}
{{- else if eq $name "BRIDGE_ROUTES" }}
{{- fail (printf "services.%s: the routes file is required: set services.%s.config.content (or env.%s to a file you mount), or services.%s.enabled=false" $.key $.key $name $.key) }}
{{- else }}
{{- fail (printf "services.%s: %s is required: set services.%s.secretEnv.%s to {name: <secret>, key: <key>}, or services.%s.enabled=false" $.key $name $.key $name $.key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
