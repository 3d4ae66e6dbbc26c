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

{{/* The module namespace, in one place. */}}
{{- define "srv.namespace" -}}d8-sds-replicated-volume{{- end }}

{{/*
A module image, pinned by digest, from the values Deckhouse sets (the layout lib-helm's
helm_lib_module_image reads): the digest from global.modulesImages.digests.sdsReplicatedVolume,
the registry from sdsReplicatedVolume.registry.base (an external module's source, injected by
Deckhouse) joined with the module name, else global.modulesImages.registry.base.
Call with (list $ IMAGE), IMAGE being the camelCase image name (agent, linstorServer, ...).
*/}}
{{- define "srv.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $digests := dig "modulesImages" "digests" "sdsReplicatedVolume" dict $root.Values.global -}}
{{- $digest := index $digests $image | default "" -}}
{{- if not $digest -}}
{{- fail (printf "image %s has no digest: set global.modulesImages.digests.sdsReplicatedVolume.%s (Deckhouse fills it from the module's images_digests.json)" $image $image) -}}
{{- end -}}
{{- $moduleBase := dig "registry" "base" "" $root.Values.sdsReplicatedVolume -}}
{{- $base := "" -}}
{{- if $moduleBase -}}
{{- $base = printf "%s/%s" (trimAll "/" $moduleBase) $root.Chart.Name -}}
{{- else -}}
{{- $base = dig "modulesImages" "registry" "base" "" $root.Values.global -}}
{{- end -}}
{{- if not $base -}}
{{- fail "no registry for the module's images: set sdsReplicatedVolume.registry.base or global.modulesImages.registry.base" -}}
{{- end -}}
{{- printf "%s@%s" $base $digest -}}
{{- end }}

{{/* The pull secret every pod names: the module registry's credentials (registry-secret.yaml). */}}
{{- define "srv.imagePullSecrets" -}}
imagePullSecrets:
  - name: {{ .Chart.Name }}-module-registry
{{- end }}

{{/* A priority class by name; call with (list $ NAME). */}}
{{- define "srv.priorityClass" -}}
priorityClassName: {{ index . 1 }}
{{- end }}

{{/*
Where a workload runs, as lib-helm's helm_lib_node_selector decides it from the cluster's
discovery values. Call with (list $ STRATEGY): "master" (control-plane nodes) or "system".
Renders nothing when the cluster has no such nodes (the pod may then run anywhere).
*/}}
{{- define "srv.nodeSelector" -}}
{{- $root := index . 0 -}}
{{- $strategy := index . 1 -}}
{{- $discovery := $root.Values.global.discovery | default dict -}}
{{- $byRole := $discovery.d8SpecificNodeCountByRole | default dict -}}
{{- if eq $strategy "master" -}}
{{- if gt (int (dig "clusterMasterCount" 0 $discovery)) 0 }}
nodeSelector:
  node-role.kubernetes.io/control-plane: ""
{{- else if gt (int (dig "master" 0 $byRole)) 0 }}
nodeSelector:
  node-role.deckhouse.io/control-plane: ""
{{- else if gt (int (dig "system" 0 $byRole)) 0 }}
nodeSelector:
  node-role.deckhouse.io/system: ""
{{- end -}}
{{- else if eq $strategy "system" -}}
{{- if gt (int (dig "sdsReplicatedVolume" 0 $byRole)) 0 }}
nodeSelector:
  node-role.deckhouse.io/{{ $root.Chart.Name }}: ""
{{- else if gt (int (dig "system" 0 $byRole)) 0 }}
nodeSelector:
  node-role.deckhouse.io/system: ""
{{- end -}}
{{- else -}}
{{- fail (printf "srv.nodeSelector: unknown strategy %q (master or system)" $strategy) -}}
{{- end -}}
{{- end }}

{{/*
Which taints a workload tolerates, as lib-helm's helm_lib_tolerations: a base strategy,
"any-node" (every node Deckhouse knows, plus the cluster's custom toleration keys) or
"system" (nodes dedicated to the module or to system components), then the DRBD
"storage-problems" taints, then extras: "uninitialized" (nodes bashible or the cloud
provider has not finished, and nodes with problems) and "no-csi".
Call with (list $ STRATEGY EXTRA...).
*/}}
{{- define "srv.tolerations" -}}
{{- $root := index . 0 -}}
{{- $strategy := index . 1 -}}
tolerations:
{{- if eq $strategy "any-node" }}
  - key: node-role.kubernetes.io/master
  - key: node-role.kubernetes.io/control-plane
  - key: node.deckhouse.io/etcd-arbiter
  - key: dedicated.deckhouse.io
    operator: Exists
  - key: dedicated
    operator: Exists
  - key: DeletionCandidateOfClusterAutoscaler
  - key: ToBeDeletedByClusterAutoscaler
{{- range $key := dig "modules" "placement" "customTolerationKeys" list $root.Values.global }}
  - key: {{ $key | quote }}
    operator: Exists
{{- end }}
{{- else if eq $strategy "system" }}
  - key: dedicated.deckhouse.io
    operator: Equal
    value: {{ $root.Chart.Name | quote }}
  - key: dedicated.deckhouse.io
    operator: Equal
    value: system
{{- else }}
{{- fail (printf "srv.tolerations: unknown strategy %q (any-node or system)" $strategy) }}
{{- end }}
  - key: drbd.linbit.com/lost-quorum
  - key: drbd.linbit.com/force-io-error
  - key: drbd.linbit.com/ignore-fail-over
{{- range $extra := slice . 2 }}
{{- if eq $extra "uninitialized" }}
  - key: node.deckhouse.io/bashible-uninitialized
    operator: Exists
    effect: NoSchedule
  - key: node.deckhouse.io/uninitialized
    operator: Exists
    effect: NoSchedule
  - key: node.kubernetes.io/not-ready
  - key: node.kubernetes.io/out-of-disk
  - key: node.kubernetes.io/memory-pressure
  - key: node.kubernetes.io/disk-pressure
  - key: node.kubernetes.io/pid-pressure
  - key: node.kubernetes.io/unreachable
  - key: node.kubernetes.io/network-unavailable
{{- else if eq $extra "no-csi" }}
  - key: ToBeDeletedTaint
    operator: Exists
  - key: node.deckhouse.io/csi-not-bootstrapped
    operator: Exists
    effect: NoSchedule
{{- else }}
{{- fail (printf "srv.tolerations: unknown extra %q (uninitialized or no-csi)" $extra) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Everything that places a pod: priority, node selector, tolerations, pull secret.
Call with (list $ PRIORITY NODE-STRATEGY TOLERATION-STRATEGY EXTRA...); NODE-STRATEGY "" for none. */}}
{{- define "srv.placement" -}}
{{- $root := index . 0 -}}
{{ include "srv.priorityClass" (list $root (index . 1)) }}
{{- if index . 2 }}
{{- include "srv.nodeSelector" (list $root (index . 2)) }}
{{- end }}
{{ include "srv.tolerations" (concat (list $root (index . 3)) (slice . 4)) }}
{{ include "srv.imagePullSecrets" $root }}
{{- end }}

{{/* The CSI driver's image follows its backend: LINSTOR's CSI while LINSTOR runs, the new one after. */}}
{{- define "srv.csiImage" -}}
{{- ternary "linstorCsi" "csiDriver" .Values.sdsReplicatedVolume.internal.renderPlan.linstor.rendered -}}
{{- end }}
