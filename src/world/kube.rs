//! What `kubectl delete` and `kubectl scale` do to the cluster, for the API
//! server and the scenario timeline alike.

use crate::k8s::PodId;

use super::World;

impl World {
    /// Deletes a pod as `kubectl delete pod` does: it stops serving at once
    /// and its owner (Deployment, DaemonSet) makes a replacement.
    pub fn delete_pod(&mut self, pod: PodId) -> Result<(), String> {
        let owner = self.cluster.pod(pod).workload;
        let effects = self.cluster.delete_pod(pod);
        self.handle_effects(effects);
        let now = self.queue.now();
        let effects = self
            .cluster
            .reconcile(owner, now, &self.injector)
            .map_err(|e| e.to_string())?;
        self.handle_effects(effects);
        Ok(())
    }

    /// Sets a Deployment's replica count (`kubectl scale`).
    pub fn scale(&mut self, namespace: &str, name: &str, replicas: u32) -> Result<(), String> {
        let w = self
            .cluster
            .find_workload(namespace, name)
            .ok_or_else(|| format!("no deployment {namespace}/{name}"))?;
        let now = self.queue.now();
        let effects = self
            .cluster
            .scale(w, replicas, now, &self.injector)
            .map_err(|e| e.to_string())?;
        self.handle_effects(effects);
        Ok(())
    }

    /// Deletes an object of any kind the world keeps; false when it has no
    /// such object. A namespace's contents must be deleted first.
    pub fn delete_object(&mut self, kind: &str, namespace: &str, name: &str) -> bool {
        match kind {
            "Deployment" | "DaemonSet" | "Pod" => {
                let Some(w) = self.cluster.find_workload(namespace, name) else {
                    return false;
                };
                let effects = self.cluster.delete_workload(w);
                self.handle_effects(effects);
                true
            }
            "Service" => {
                let Some(s) = self.cluster.find_service(namespace, name) else {
                    return false;
                };
                let effects = self.cluster.delete_service(s);
                self.handle_effects(effects);
                true
            }
            "Namespace" => self.cluster.namespaces.remove(name).is_some(),
            "ConfigMap" if super::mesh::is_mesh_config(namespace, name) => {
                // istiod falls back to its built-in defaults.
                let _ = self.mesh.read_mesh_config("");
                self.cluster.delete_plain(kind, namespace, name)
            }
            "ConfigMap" | "Secret" | "ServiceAccount" => {
                self.cluster.delete_plain(kind, namespace, name)
            }
            _ => self.delete_config(kind, namespace, name),
        }
    }
}
