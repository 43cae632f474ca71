{{/*
kinesis-api's auth and TLS files. Each helper takes the per-service dict {root, key, svc}.
A file comes from an existing Secret named in values, or from a value the chart puts in the
Secret <release>-tideway-kinesis-api (secret.yaml); nothing is generated at render time, so
every replica holds the same iterator key.
*/}}

{{/* "true" when the chart makes its own Secret (a credentials file or an iterator key given as a value). */}}
{{- define "tideway.kinesisApi.ownSecret" -}}
{{- $creds := .svc.auth.credentials }}
{{- if or (and (eq .svc.auth.mode "sigv4") (not $creds.existingSecret) $creds.content) (and (not .svc.iteratorSecret.existingSecret) .svc.iteratorSecret.value) }}true{{ end }}
{{- end }}

{{/* Fails rendering, naming the value to set, when a file the service needs is not given. */}}
{{- define "tideway.kinesisApi.check" -}}
{{- if and (eq .svc.auth.mode "sigv4") (not .svc.auth.credentials.existingSecret) (not .svc.auth.credentials.content) }}
{{- fail (printf "services.%s: the credentials file is required with auth.mode sigv4: set services.%s.auth.credentials.existingSecret (a Secret whose key %q holds ACCESS_KEY_ID:SECRET_ACCESS_KEY lines) or services.%s.auth.credentials.content" .key .key .svc.auth.credentials.key .key) }}
{{- end }}
{{- if and (not .svc.iteratorSecret.existingSecret) (not .svc.iteratorSecret.value) }}
{{- fail (printf "services.%s: the shard iterator key is required (every replica must share it): set services.%s.iteratorSecret.existingSecret (a Secret whose key %q holds at least 32 bytes) or services.%s.iteratorSecret.value" .key .key .svc.iteratorSecret.key .key) }}
{{- end }}
{{- end }}

{{- define "tideway.kinesisApi.env" -}}
- name: KINESIS_API_HOST
  value: "0.0.0.0"
- name: KINESIS_API_PORT
  value: {{ .svc.port | quote }}
- name: KINESIS_API_AUTH
  value: {{ .svc.auth.mode | quote }}
{{- if eq .svc.auth.mode "sigv4" }}
- name: KINESIS_API_CREDENTIALS_FILE
  value: /etc/tideway/kinesis-api/credentials/{{ .svc.auth.credentials.key }}
{{- end }}
- name: KINESIS_API_ITERATOR_SECRET_FILE
  value: /etc/tideway/kinesis-api/iterator/{{ .svc.iteratorSecret.key }}
{{- if .svc.tls.existingSecret }}
- name: KINESIS_API_TLS_CERT_FILE
  value: /etc/tideway/kinesis-api/tls/tls.crt
- name: KINESIS_API_TLS_KEY_FILE
  value: /etc/tideway/kinesis-api/tls/tls.key
{{- end }}
{{- end }}

{{- define "tideway.kinesisApi.volumeMounts" -}}
{{- if eq .svc.auth.mode "sigv4" }}
- name: kinesis-api-credentials
  mountPath: /etc/tideway/kinesis-api/credentials
  readOnly: true
{{- end }}
- name: kinesis-api-iterator
  mountPath: /etc/tideway/kinesis-api/iterator
  readOnly: true
{{- if .svc.tls.existingSecret }}
- name: kinesis-api-tls
  mountPath: /etc/tideway/kinesis-api/tls
  readOnly: true
{{- end }}
{{- end }}

{{- define "tideway.kinesisApi.volumes" -}}
{{- $own := include "tideway.componentName" . }}
{{- if eq .svc.auth.mode "sigv4" }}
- name: kinesis-api-credentials
  secret:
    secretName: {{ .svc.auth.credentials.existingSecret | default $own }}
    items:
      - key: {{ .svc.auth.credentials.key }}
        path: {{ .svc.auth.credentials.key }}
{{- end }}
- name: kinesis-api-iterator
  secret:
    secretName: {{ .svc.iteratorSecret.existingSecret | default $own }}
    items:
      - key: {{ .svc.iteratorSecret.key }}
        path: {{ .svc.iteratorSecret.key }}
{{- if .svc.tls.existingSecret }}
- name: kinesis-api-tls
  secret:
    secretName: {{ .svc.tls.existingSecret }}
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
{{- end }}
{{- end }}
