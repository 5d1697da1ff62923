//! The model versions served: the base model (the embedded one, or
//! `MODEL_PATH`'s), which is never unloaded, and the artifacts in
//! `MODELS_DIR`, read again on every reload. Each reload builds a new
//! [`Models`] snapshot and swaps it in atomically; a request keeps the
//! snapshot (and so the model) it started with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use classification_model::{Model, artifact::artifact_file_name};
use serde::Serialize;
use utoipa::ToSchema;

use crate::errors::ServiceError;
use crate::serving::errors::{ErrorItem, RequestError, shorten};

/// Largest artifact file read (the course model's is about 10 KB).
pub const MAX_ARTIFACT_BYTES: u64 = 16 * 1024 * 1024;

/// Where a loaded version came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Embedded in the model crate.
    Embedded,
    /// `MODEL_PATH`.
    ModelPath(PathBuf),
    /// A file in `MODELS_DIR`.
    Dir(PathBuf),
}

impl Source {
    /// `embedded`, `MODEL_PATH/<file>` or `MODELS_DIR/<file>`: the file's
    /// name without the server's directories, which `/model` would show to
    /// anyone.
    pub fn describe(&self) -> String {
        match self {
            Source::Embedded => "embedded".into(),
            Source::ModelPath(p) => format!("MODEL_PATH/{}", file_name(p)),
            Source::Dir(p) => format!("MODELS_DIR/{}", file_name(p)),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A loaded version.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The model.
    pub model: Arc<Model>,
    /// Its file, or the crate.
    pub source: Source,
}

impl Loaded {
    /// The model embedded in the model crate.
    pub fn embedded() -> Result<Loaded, classification_model::Error> {
        Ok(Loaded {
            model: Arc::new(Model::embedded()?.clone()),
            source: Source::Embedded,
        })
    }

    /// The model in an artifact file (`MODEL_PATH`).
    pub fn file(path: &Path) -> Result<Loaded, classification_model::Error> {
        Ok(Loaded {
            model: Arc::new(Model::load(path)?),
            source: Source::ModelPath(path.to_owned()),
        })
    }
}

/// The model a request is scored by, and the shadow that scores it too.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// Answers the request.
    pub model: Arc<Model>,
    /// Also scores it, off the response path (`SHADOW_MODEL_VERSION`, unless
    /// that is the version chosen).
    pub shadow: Option<Arc<Model>>,
}

/// One consistent set of versions.
#[derive(Debug)]
pub struct Models {
    versions: BTreeMap<semver::Version, Loaded>,
    default: semver::Version,
    shadow: Option<semver::Version>,
}

impl Models {
    /// The model unversioned requests get.
    pub fn default_model(&self) -> &Arc<Model> {
        &self.versions[&self.default].model
    }

    /// The shadow model, if one is configured.
    pub fn shadow_model(&self) -> Option<&Arc<Model>> {
        self.shadow.as_ref().map(|v| &self.versions[v].model)
    }

    /// Whether `version` is the default.
    pub fn is_default(&self, version: &str) -> bool {
        self.default.to_string() == version
    }

    /// Whether `version` is the shadow.
    pub fn is_shadow(&self, version: &str) -> bool {
        self.shadow
            .as_ref()
            .is_some_and(|s| s.to_string() == version)
    }

    /// `default`, `shadow` or `other`.
    pub fn role(&self, version: &str) -> &'static str {
        if self.is_default(version) {
            "default"
        } else if self.is_shadow(version) {
            "shadow"
        } else {
            "other"
        }
    }

    /// Every loaded version, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Loaded> {
        self.versions.values()
    }

    /// Every loaded version's name, oldest first.
    pub fn names(&self) -> Vec<String> {
        self.versions.keys().map(ToString::to_string).collect()
    }

    /// The model of `version`, or the default (not found: no such version
    /// is loaded, or it is not a version at all).
    pub fn get(&self, version: Option<&str>) -> Result<&Arc<Model>, RequestError> {
        let Some(asked) = version else {
            return Ok(self.default_model());
        };
        semver::Version::parse(asked)
            .ok()
            .and_then(|v| self.versions.get(&v))
            .map(|l| &l.model)
            .ok_or_else(|| {
                RequestError::NotFound(ErrorItem::field(
                    "version",
                    format!(
                        "no version {:?} is served: the versions are {}",
                        shorten(asked),
                        self.names().join(", ")
                    ),
                ))
            })
    }

    /// The model a request names, at its version if one is given (else the
    /// default).
    pub fn find(&self, name: &str, version: Option<&str>) -> Result<&Arc<Model>, RequestError> {
        let served = self.default_model().name();
        if name != served {
            return Err(RequestError::NotFound(ErrorItem::field(
                "model",
                format!(
                    "no model is named {:?}: this server serves {served:?}",
                    shorten(name),
                ),
            )));
        }
        self.get(version)
    }

    /// [`get`](Self::get), with the shadow model that also scores it.
    pub fn choose(&self, version: Option<&str>) -> Result<Chosen, RequestError> {
        Ok(self.shadowing(self.get(version)?))
    }

    /// `model` (one of these), with the shadow that also scores it.
    pub fn shadowing(&self, model: &Arc<Model>) -> Chosen {
        let shadow = self
            .shadow_model()
            .filter(|s| s.version() != model.version())
            .cloned();
        Chosen {
            model: model.clone(),
            shadow,
        }
    }

    /// What a load that refused `refused` did.
    pub fn report(&self, refused: Vec<Refused>) -> ReloadReport {
        ReloadReport {
            versions: self.names(),
            default: self.default.to_string(),
            shadow: self.shadow.as_ref().map(ToString::to_string),
            refused,
        }
    }
}

/// An artifact file a reload did not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Refused {
    /// The file.
    pub file: String,
    /// Why it was refused.
    pub reason: String,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReloadReport {
    /// The versions served now, oldest first.
    pub versions: Vec<String>,
    /// The version unversioned requests get.
    pub default: String,
    /// The shadow version, if any.
    pub shadow: Option<String>,
    /// Files not taken. A refused file whose version was loaded before keeps
    /// its previous load; so does the default or shadow version's, if its
    /// file is gone.
    pub refused: Vec<Refused>,
}

/// The versions served, swapped whole on reload.
#[derive(Debug)]
pub struct Registry {
    current: ArcSwap<Models>,
    base: Loaded,
    base_version: semver::Version,
    dir: Option<PathBuf>,
    default: semver::Version,
    shadow: Option<semver::Version>,
    /// One reload at a time.
    reloading: Mutex<()>,
}

impl Registry {
    /// Loads `dir` beside `base`. Fails if the default or shadow version is
    /// not among them, if both are the same, or if `dir` cannot be read;
    /// refused files are in the report.
    pub fn open(
        base: Loaded,
        dir: Option<PathBuf>,
        default: Option<semver::Version>,
        shadow: Option<semver::Version>,
    ) -> Result<(Registry, ReloadReport), ServiceError> {
        let base_version = parse_version(base.model.version())?;
        let default = default.unwrap_or_else(|| base_version.clone());
        if shadow.as_ref() == Some(&default) {
            return Err(ServiceError::Models(format!(
                "SHADOW_MODEL_VERSION is {default}, the default version: a shadow must be another version"
            )));
        }
        if let Some(dir) = &dir
            && let Err(e) = std::fs::read_dir(dir)
        {
            return Err(ServiceError::Models(format!(
                "cannot read MODELS_DIR {}: {e}",
                dir.display()
            )));
        }
        let registry = Registry {
            current: ArcSwap::from_pointee(Models {
                versions: BTreeMap::new(),
                default: default.clone(),
                shadow: None,
            }),
            base,
            base_version,
            dir,
            default,
            shadow,
            reloading: Mutex::new(()),
        };
        let (models, refused) = registry.scan(None);
        for (wanted, name) in [
            (Some(&registry.default), "DEFAULT_MODEL_VERSION"),
            (registry.shadow.as_ref(), "SHADOW_MODEL_VERSION"),
        ] {
            if let Some(v) = wanted.filter(|v| !models.contains_key(v)) {
                let why = refused
                    .iter()
                    .map(|r| format!("; refused {}: {}", r.file, r.reason))
                    .collect::<String>();
                return Err(ServiceError::Models(format!(
                    "{name}={v} is not loaded: the versions are {}{why}",
                    models
                        .keys()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let report = registry.install(models, refused);
        Ok((registry, report))
    }

    /// The versions served now.
    pub fn current(&self) -> Arc<Models> {
        self.current.load_full()
    }

    /// The directory watched, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Reads `MODELS_DIR` again and swaps the new set in. Blocking (it reads
    /// files): run it off the async workers.
    pub fn reload(&self) -> ReloadReport {
        let _one = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let old = self.current();
        let (mut models, mut refused) = self.scan(Some(&old));
        for pinned in [Some(&self.default), self.shadow.as_ref()]
            .into_iter()
            .flatten()
        {
            if !models.contains_key(pinned)
                && let Some(kept) = old.versions.get(pinned)
            {
                refused.push(Refused {
                    file: kept.source.describe(),
                    reason: format!(
                        "version {pinned} is configured (DEFAULT_MODEL_VERSION or \
                             SHADOW_MODEL_VERSION) and cannot be unloaded: its previous load \
                             keeps serving"
                    ),
                });
                models.insert(pinned.clone(), kept.clone());
            }
        }
        self.install(models, refused)
    }

    fn install(
        &self,
        models: BTreeMap<semver::Version, Loaded>,
        refused: Vec<Refused>,
    ) -> ReloadReport {
        let models = Models {
            versions: models,
            default: self.default.clone(),
            shadow: self.shadow.clone(),
        };
        let report = models.report(refused);
        self.current.store(Arc::new(models));
        report
    }

    /// The base and every artifact in the directory that loads; a refused
    /// file keeps the version it held in `old`, if any.
    fn scan(&self, old: Option<&Models>) -> (BTreeMap<semver::Version, Loaded>, Vec<Refused>) {
        let mut models = BTreeMap::new();
        let mut refused = Vec::new();
        models.insert(self.base_version.clone(), self.base.clone());
        let Some(dir) = &self.dir else {
            return (models, refused);
        };
        let files = match artifact_files(dir) {
            Ok(files) => files,
            Err(e) => {
                // keep everything as it was
                refused.push(Refused {
                    file: "MODELS_DIR".into(),
                    reason: format!("cannot read the directory: {e}"),
                });
                if let Some(old) = old {
                    models.extend(old.versions.iter().map(|(v, l)| (v.clone(), l.clone())));
                }
                return (models, refused);
            }
        };
        for (path, version) in files {
            let Some(version) = version else {
                refused.push(Refused {
                    file: Source::Dir(path).describe(),
                    reason: format!(
                        "the file name does not carry a semver version: name it {}",
                        artifact_file_name("X.Y.Z")
                    ),
                });
                continue;
            };
            match load(&path, &version, &self.base, &self.base_version) {
                Ok(Some(model)) => {
                    models.insert(
                        version,
                        Loaded {
                            model: Arc::new(model),
                            source: Source::Dir(path),
                        },
                    );
                }
                Ok(None) => {}
                Err(reason) => {
                    let kept = old
                        .and_then(|o| o.versions.get(&version))
                        .filter(|l| l.source == Source::Dir(path.clone()));
                    let reason = match kept {
                        Some(kept) => {
                            models.insert(version, kept.clone());
                            format!("{reason}; its previous load keeps serving")
                        }
                        None => reason,
                    };
                    refused.push(Refused {
                        file: Source::Dir(path).describe(),
                        reason,
                    });
                }
            }
        }
        (models, refused)
    }
}

fn parse_version(v: &str) -> Result<semver::Version, ServiceError> {
    semver::Version::parse(v)
        .map_err(|e| ServiceError::Models(format!("the base model's version {v:?}: {e}")))
}

/// The artifact files in `dir` (named as `cargo xtask train` names them)
/// with the version their name gives, if it is one.
fn artifact_files(dir: &Path) -> std::io::Result<Vec<(PathBuf, Option<semver::Version>)>> {
    let (prefix, suffix) = artifact_file_name("{}")
        .split_once("{}")
        .map(|(p, s)| (p.to_owned(), s.to_owned()))
        .unwrap_or_default();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(version) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(&suffix))
        else {
            // partial writes (`.name.partial`) and other files
            continue;
        };
        // named like an artifact but without a version: listed so that the
        // reload reports it
        files.push((path.clone(), semver::Version::parse(version).ok()));
    }
    files.sort();
    Ok(files)
}

/// The model in `path`, which its name says is `version`; `None` if it is
/// the base model's own artifact.
fn load(
    path: &Path,
    version: &semver::Version,
    base: &Loaded,
    base_version: &semver::Version,
) -> Result<Option<Model>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read it: {e}"))?
        .len();
    if size > MAX_ARTIFACT_BYTES {
        return Err(format!(
            "it is {size} bytes, more than the {MAX_ARTIFACT_BYTES} an artifact may have"
        ));
    }
    let model = Model::load(path).map_err(|e| e.to_string())?;
    if model.version() != version.to_string() {
        return Err(format!(
            "it holds model version {}, not the {version} its name says",
            model.version()
        ));
    }
    if version == base_version {
        if model.artifact() == base.model.artifact() {
            return Ok(None);
        }
        return Err(format!(
            "version {version} is the {} model's, and this artifact differs from it: \
             give it another version (`cargo xtask train --out DIR --version X.Y.Z`)",
            base.source.describe()
        ));
    }
    Ok(Some(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded model's version.
    const BASE: &str = include_str!("../../../classification_model/VERSION").trim_ascii();

    fn base() -> Loaded {
        Loaded::embedded().unwrap()
    }

    fn write_version(dir: &Path, version: &str) -> PathBuf {
        let json = base().model.artifact().to_json().unwrap().replacen(
            &format!(
                "\"model_version\": \"{}\"",
                classification_model::model_version()
            ),
            &format!("\"model_version\": \"{version}\""),
            1,
        );
        let path = dir.join(artifact_file_name(version));
        std::fs::write(&path, json).unwrap();
        path
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "models-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn serves_the_base_and_every_good_artifact_and_refuses_the_rest() {
        let dir = temp_dir("scan");
        write_version(&dir, "9.2.0");
        write_version(&dir, "9.10.0");
        std::fs::write(dir.join(artifact_file_name("9.3.0")), "{\"format_rev").unwrap();
        std::fs::write(dir.join(artifact_file_name("banana")), "{}").unwrap();
        std::fs::write(dir.join("notes.txt"), "not an artifact").unwrap();
        // the base's own artifact is no second copy and no refusal
        std::fs::write(
            dir.join(artifact_file_name(classification_model::model_version())),
            base().model.artifact().to_json().unwrap(),
        )
        .unwrap();
        let (registry, report) = Registry::open(base(), Some(dir.clone()), None, None).unwrap();
        assert_eq!(report.versions, [BASE, "9.2.0", "9.10.0"]);
        assert_eq!(report.refused.len(), 2, "{report:?}");
        assert!(report.refused[0].reason.contains("corrupt"), "{report:?}");
        assert!(report.refused[1].reason.contains("semver"), "{report:?}");
        let models = registry.current();
        assert_eq!(models.get(None).unwrap().version(), BASE);
        assert_eq!(models.get(Some("9.10.0")).unwrap().version(), "9.10.0");
        let e = models.get(Some("9.3.0")).unwrap_err();
        assert!(
            e.to_string().contains(&format!("{BASE}, 9.2.0, 9.10.0")),
            "{e:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_reload_adds_changes_and_removes_but_keeps_what_it_must() {
        let dir = temp_dir("reload");
        let two = write_version(&dir, "9.2.0");
        write_version(&dir, "9.3.0");
        let (registry, _) = Registry::open(
            base(),
            Some(dir.clone()),
            Some(semver::Version::new(9, 2, 0)),
            None,
        )
        .unwrap();
        let before = registry.current();
        // the default's file turns corrupt, 0.3.0 goes, 0.4.0 comes
        std::fs::write(&two, "garbage").unwrap();
        std::fs::remove_file(dir.join(artifact_file_name("9.3.0"))).unwrap();
        write_version(&dir, "9.4.0");
        let report = registry.reload();
        assert_eq!(report.versions, [BASE, "9.2.0", "9.4.0"]);
        assert!(
            report.refused[0]
                .reason
                .contains("previous load keeps serving")
        );
        let after = registry.current();
        assert!(Arc::ptr_eq(
            before.get(Some("9.2.0")).unwrap(),
            after.get(Some("9.2.0")).unwrap()
        ));
        // a snapshot taken before still has what it had
        assert!(before.get(Some("9.3.0")).is_ok());
        // even removed, the default stays
        std::fs::remove_file(&two).unwrap();
        let report = registry.reload();
        assert_eq!(report.versions, [BASE, "9.2.0", "9.4.0"]);
        assert!(report.refused[0].reason.contains("cannot be unloaded"));
        // the base model is never unloaded
        std::fs::remove_dir_all(&dir).unwrap();
        let report = registry.reload();
        assert!(report.versions.contains(&BASE.to_owned()));
        assert!(
            report.refused[0]
                .reason
                .contains("cannot read the directory")
        );
    }

    #[test]
    fn refuses_a_default_or_shadow_not_loaded_and_a_shadow_equal_to_the_default() {
        let dir = temp_dir("config");
        write_version(&dir, "9.2.0");
        let v = |s: &str| Some(semver::Version::parse(s).unwrap());
        let e = Registry::open(base(), Some(dir.clone()), v("9.3.0"), None).unwrap_err();
        assert!(e.to_string().contains("DEFAULT_MODEL_VERSION=9.3.0"), "{e}");
        let e = Registry::open(base(), Some(dir.clone()), None, v(BASE)).unwrap_err();
        assert!(
            e.to_string().contains("a shadow must be another version"),
            "{e}"
        );
        let (registry, _) = Registry::open(base(), Some(dir.clone()), None, v("9.2.0")).unwrap();
        let models = registry.current();
        let chosen = models.choose(None).unwrap();
        assert_eq!(chosen.shadow.unwrap().version(), "9.2.0");
        // no request is shadowed by its own version
        assert!(models.choose(Some("9.2.0")).unwrap().shadow.is_none());
        let e = Registry::open(base(), Some(dir.join("missing")), None, None).unwrap_err();
        assert!(e.to_string().contains("cannot read MODELS_DIR"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
