{{/* Names and labels shared by every object of the chart. */}}
{{- define "qubot.fullname" -}}
{{ .Release.Name }}
{{- end }}

{{- define "qubot.selectorLabels" -}}
app.kubernetes.io/name: qubot
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "qubot.labels" -}}
{{ include "qubot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: qubot-{{ .Chart.Version }}
{{- end }}

{{- define "qubot.serviceAccountName" -}}
{{- if .Values.serviceAccount.name }}{{ .Values.serviceAccount.name }}{{- else }}{{ include "qubot.fullname" . }}{{- end }}
{{- end }}

{{- define "qubot.databaseSecret" -}}
{{- if .Values.database.existingSecret }}{{ .Values.database.existingSecret }}{{- else }}{{ include "qubot.fullname" . }}-database{{- end }}
{{- end }}

{{- define "qubot.secretKeySecret" -}}
{{- if .Values.secretKey.existingSecret }}{{ .Values.secretKey.existingSecret }}{{- else }}{{ include "qubot.fullname" . }}-secret-key{{- end }}
{{- end }}

{{/* Environment of every control-plane container (docs/kubernetes.md "Values"). */}}
{{- define "qubot.env" -}}
- name: HOST
  value: "0.0.0.0"
- name: QUBOT_DATA_DIR
  value: /data
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "qubot.databaseSecret" . }}
      key: {{ .Values.database.secretKey }}
{{- if or .Values.secretKey.existingSecret .Values.secretKey.value }}
- name: QUBOT_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "qubot.secretKeySecret" . }}
      key: {{ .Values.secretKey.secretKey }}
{{- end }}
- name: QUBOT_METRICS_ALLOW
  value: {{ .Values.metrics.allow | quote }}
- name: QUBOT_SECURE_COOKIES
  value: {{ if .Values.secureCookies }}"1"{{ else }}"0"{{ end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end }}
