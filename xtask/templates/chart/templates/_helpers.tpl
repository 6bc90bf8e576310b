{{/*
The per-service facts of this chart. `cargo xtask charts` fills them in from the CRDs; every
other template is the same text in the s3, sqs and dynamodb charts.
*/}}
{{- define "ack.service" -}}@@SERVICE@@{{- end -}}
{{- define "ack.group" -}}@@GROUP@@{{- end -}}
{{- define "ack.kinds" -}}@@KINDS_JSON@@{{- end -}}
{{- define "ack.resources" -}}@@RESOURCES_JSON@@{{- end -}}

{{/* The controller binary inside the image (`cargo xtask image` puts it where ACK's images have
theirs, so ACK's chart, which runs ./bin/controller from /, runs ours too). */}}
{{- define "ack.binary" -}}/bin/controller{{- end -}}

{{/* The port of /healthz and /readyz (--healthz-addr). */}}
{{- define "ack.healthzPort" -}}8081{{- end -}}

{{- define "ack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name: the release name, plus the chart name unless it is in it. */}}
{{- define "ack.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ack.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ack.labels" -}}
{{ include "ack.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ack-rs
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "ack.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ack.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The namespace the controller watches; empty means all of them. */}}
{{- define "ack.watchNamespace" -}}
{{- if eq .Values.installScope "namespace" -}}
{{- default .Release.Namespace .Values.watchNamespace -}}
{{- else -}}
{{- .Values.watchNamespace -}}
{{- end -}}
{{- end -}}

{{- define "ack.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace -}}
{{- end -}}

{{/*
What the controller may do, and nothing more: its own kinds, their status and finalizers,
events about them, and reading namespaces (for the namespace deletion-policy annotation).
*/}}
{{- define "ack.rules" -}}
{{- $resources := include "ack.resources" . | fromJsonArray -}}
- apiGroups:
    - {{ include "ack.group" . }}
  resources:
  {{- range $resources }}
    - {{ . }}
  {{- end }}
  verbs:
    - get
    - list
    - watch
    - patch
    - update
- apiGroups:
    - {{ include "ack.group" . }}
  resources:
  {{- range $resources }}
    - {{ . }}/status
  {{- end }}
  verbs:
    - get
    - patch
    - update
- apiGroups:
    - {{ include "ack.group" . }}
  resources:
  {{- range $resources }}
    - {{ . }}/finalizers
  {{- end }}
  verbs:
    - update
- apiGroups:
    - ""
    - events.k8s.io
  resources:
    - events
  verbs:
    - create
    - patch
- apiGroups:
    - ""
  resources:
    - namespaces
  verbs:
    - get
    - list
    - watch
{{- if .Values.enableCARM }}
- apiGroups:
    - ""
  resources:
    - configmaps
  verbs:
    - get
{{- end }}
{{- if (.Values.featureGates).IAMRoleSelector }}
- apiGroups:
    - services.k8s.aws
  resources:
    - iamroleselectors
  verbs:
    - get
    - list
    - watch
{{- end }}
{{- if .Values.enableFieldExportReconciler }}
- apiGroups:
    - services.k8s.aws
  resources:
    - fieldexports
  verbs:
    - get
    - list
    - watch
    - patch
    - update
- apiGroups:
    - services.k8s.aws
  resources:
    - fieldexports/status
  verbs:
    - get
    - patch
    - update
- apiGroups:
    - ""
  resources:
    - configmaps
    - secrets
  verbs:
    - get
    - create
    - patch
    - delete
{{- end }}
{{- end -}}
