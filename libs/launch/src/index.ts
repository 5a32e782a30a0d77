/**
 * @nbm/launch: what launches nbm on existing schedulers. Kubernetes manifests for one training run (a
 * coordinator Job and Service, an Indexed Job of GPU workers, the keys Secret and the run's volume), a check
 * that such manifests are wired together, and the YAML they are written in (by the `yaml` package). SLURM's
 * batch script and the container image are plain files in infra/.
 */
export { InfraOptionError, K8S_DEFAULTS, KEY_FILES_BY_ROLE, KEY_FILE_NAMES, k8sManifests, keysSecretCommand, listeningProbeScript, toYaml, type K8sObject, type K8sOptions } from './k8s.ts';
export { checkK8sWiring, type WiringOptions } from './wiring.ts';
