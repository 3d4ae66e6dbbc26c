{{/* The labels every object of the module carries; call with (dict "app" NAME). */}}
{{- define "srv.labels" -}}
heritage: deckhouse
module: sds-replicated-volume
app: {{ .app }}
{{- end }}

{{/* Pod selector of one workload; call with (dict "app" NAME). */}}
{{- define "srv.selector" -}}
matchLabels:
  app: {{ .app }}
{{- end }}

{{/* A module image from internal.images (openapi gives the defaults); call with (list $ NAME). */}}
{{- define "srv.image" -}}
{{- $images := (index . 0).Values.sdsReplicatedVolume.internal.images -}}
{{- $registry := required "sdsReplicatedVolume.internal.images.registry is empty" $images.registry -}}
{{- $tag := required "sdsReplicatedVolume.internal.images.tag is empty" $images.tag -}}
{{- printf "%s/%s:%s" $registry (index . 1) $tag -}}
{{- end }}

{{/* The module namespace, in one place. */}}
{{- define "srv.namespace" -}}d8-sds-replicated-volume{{- end }}
