{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
The annotations of one resource. Call with (dict "root" $ "fields" (dict ...)): the identifying
fields are the adoption-fields JSON, used only while adoptExistingResources is on.
*/}}
{{- define "app.annotations" -}}
{{- $values := .root.Values -}}
{{- if $values.adoptExistingResources }}
services.k8s.aws/adoption-policy: adopt
services.k8s.aws/adoption-fields: {{ toJson .fields | quote }}
{{- end }}
{{- with $values.deletionPolicy }}
services.k8s.aws/deletion-policy: {{ . }}
{{- end }}
{{- end -}}

{{/* The key schema and attribute definitions of the table (needed in both modes). */}}
{{- define "app.tableKeys" -}}
{{- $table := .Values.table -}}
keySchema:
  - attributeName: {{ $table.partitionKey.name | quote }}
    keyType: HASH
  {{- if $table.sortKey.name }}
  - attributeName: {{ $table.sortKey.name | quote }}
    keyType: RANGE
  {{- end }}
attributeDefinitions:
  - attributeName: {{ $table.partitionKey.name | quote }}
    attributeType: {{ $table.partitionKey.type | quote }}
  {{- if $table.sortKey.name }}
  - attributeName: {{ $table.sortKey.name | quote }}
    attributeType: {{ $table.sortKey.type | quote }}
  {{- end }}
{{- end -}}
