/*
 * Builds the provider's settings from its sources, lowest precedence first:
 * defaults, the YAML file, the openssl.cnf section, then the environment.
 * Pure C with no provider dependency, so unit tests link it directly.
 */
#ifndef VP_CONFIG_H
#define VP_CONFIG_H

#include "vaultclient.h"

/* Looks up a key of the provider's openssl.cnf section; NULL if absent. */
typedef const char *(*vp_cnf_lookup_fn)(void *arg, const char *key);
/* Looks up an environment variable; getenv-compatible. */
typedef const char *(*vp_env_lookup_fn)(const char *name);

/* The flat keys an openssl.cnf section may hold, NULL-terminated. */
extern const char *const vp_config_cnf_keys[];

/*
 * Fills cfg (initialised here) from every source and validates the result.
 * cnf may be NULL (no section); env NULL means getenv. On failure cfg is
 * cleared and err names the problem ("no Vault address: set address ...").
 * The YAML file is the one named by the environment variable
 * VAULT_PROVIDER_CONFIG, else by the cnf key config_file. Empty values, in
 * any source, count as unset. (env NULL uses secure_getenv, which is getenv
 * except in setuid and setgid programs, where it returns NULL.)
 */
vc_status vp_config_load(vc_config *cfg, vp_cnf_lookup_fn cnf, void *cnf_arg,
                         vp_env_lookup_fn env, vc_error *err);

/*
 * Overlays the signing.vault_transit mapping of a YAML file onto cfg and
 * sets cfg->algorithm and cfg->config_file. On failure cfg may hold part of
 * the file's settings: callers discard it (vp_config_load clears it).
 */
vc_status vp_config_load_yaml(vc_config *cfg, const char *path, vc_error *err);

/*
 * Overlays one flat key (openssl.cnf spelling) onto cfg; an empty or NULL
 * value leaves cfg as it is. A replaced token or secret ID is cleansed.
 */
vc_status vp_config_set(vc_config *cfg, const char *key, const char *value,
                        vc_error *err);

/* The checks that make loading the provider fail. */
vc_status vp_config_validate(const vc_config *cfg, vc_error *err);

#endif
