/* file.c: device model files (devices/ss_devices.h, ss_device_load): the
 * JSON that `smallsim fit` writes ({"device": {"model", "polarity",
 * "params"}, ...the fit's report}) or the same keys at the top level, read
 * with the library's JSON reader; every parameter keeps its 17 digits. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devices/devices_private.h"

/* The line of a key inside the device object (which may be the root). */
static int line_of(const char *text, int boxed, const char *k1, const char *k2)
{
    const char *keys[3];
    size_t n = 0;
    if (boxed)
        keys[n++] = "device";
    if (k1)
        keys[n++] = k1;
    if (k2)
        keys[n++] = k2;
    return n ? ss_json_line(text, keys, n) : 1;
}

/* The parameter named in a message "parameter 'NAME' ...", or NULL. */
static const char *named_param(const char *msg, char *buf, size_t size)
{
    const char *p = strstr(msg, "parameter '");
    if (!p)
        return NULL;
    p += strlen("parameter '");
    const char *q = strchr(p, '\'');
    if (!q || (size_t)(q - p) >= size)
        return NULL;
    memcpy(buf, p, (size_t)(q - p));
    buf[q - p] = 0;
    return buf;
}

static int from_json(const json_t *root, const char *text, const char *name, ss_device *d,
                     ss_error *err)
{
    if (!json_is_object(root))
        return ss_error_set(err, SS_EPARSE,
                            "%s:1: a device file is a JSON object with \"model\" and \"params\" "
                            "(or a \"device\" object holding them, as smallsim fit writes)",
                            name);
    const json_t *box = json_object_get(root, "device");
    int boxed = box != NULL;
    if (boxed && !json_is_object(box))
        return ss_error_set(err, SS_EPARSE, "%s:%d: \"device\" must be an object", name,
                            line_of(text, 0, "device", NULL));
    if (!boxed)
        box = root;
    const char *key;
    const json_t *val;
    if (boxed)
        json_object_foreach((json_t *)box, key, val)
        {
            if (strcmp(key, "model") && strcmp(key, "preset") && strcmp(key, "polarity") &&
                strcmp(key, "hard") && strcmp(key, "params"))
                return ss_error_set(err, SS_EPARSE,
                                    "%s:%d: unknown key '%s' in \"device\" (model, preset, "
                                    "polarity, hard, params)",
                                    name, line_of(text, 1, key, NULL), key);
        }
    const json_t *model = json_object_get(box, "model"), *preset = json_object_get(box, "preset");
    const json_t *pol = json_object_get(box, "polarity"), *hard = json_object_get(box, "hard");
    const json_t *params = json_object_get(box, "params");
    int rc;
    int h = 0;
    if (hard && !json_is_boolean(hard))
        return ss_error_set(err, SS_EPARSE, "%s:%d: \"hard\" must be true or false", name,
                            line_of(text, boxed, "hard", NULL));
    h = hard && json_is_true(hard);
    if (preset) {
        d->hard = h;
        if (!json_is_string(preset))
            return ss_error_set(err, SS_EPARSE, "%s:%d: \"preset\" must be a preset name", name,
                                line_of(text, boxed, "preset", NULL));
        if ((rc = ss_device_apply_preset(d, json_string_value(preset), err)))
            return ss_error_prefix(err, SS_EPARSE, "%s:%d", name,
                                   line_of(text, boxed, "preset", NULL));
        if (model && (!json_is_string(model) ||
                      strcasecmp(json_string_value(model), d->type->name)))
            return ss_error_set(err, SS_EPARSE, "%s:%d: \"model\" contradicts preset '%s' (%s)",
                                name, line_of(text, boxed, "model", NULL),
                                json_string_value(preset), d->type->name);
    } else {
        const ss_device_type *t = json_is_string(model) ? ss_device_type_find(json_string_value(model))
                                                        : NULL;
        if (!model)
            return ss_error_set(err, SS_EPARSE,
                                "%s:%d: no \"model\" (vteam, yakopcic, yakopcic2020) or \"preset\"",
                                name, boxed ? line_of(text, 0, "device", NULL) : 1);
        if (!t)
            return ss_error_set(err, SS_EPARSE,
                                "%s:%d: unknown model %s%s%s (vteam, yakopcic, yakopcic2020)", name,
                                line_of(text, boxed, "model", NULL), json_is_string(model) ? "'" : "",
                                json_is_string(model) ? json_string_value(model) : "(not a name)",
                                json_is_string(model) ? "'" : "");
        ss_device_init(d, t);
        d->hard = h;
    }
    if (pol) {
        double p = json_is_number(pol) ? json_number_value(pol) : NAN;
        const char *s = json_is_string(pol) ? json_string_value(pol) : NULL;
        if (p == 1 || (s && (!strcasecmp(s, "normal") || !strcmp(s, "1") || !strcmp(s, "+1"))))
            d->polarity = 1;
        else if (p == -1 || (s && (!strcasecmp(s, "reversed") || !strcmp(s, "-1"))))
            d->polarity = -1;
        else
            return ss_error_set(err, SS_EPARSE, "%s:%d: \"polarity\" must be 1 or -1", name,
                                line_of(text, boxed, "polarity", NULL));
    }
    if (!params && !preset)
        return ss_error_set(err, SS_EPARSE, "%s:%d: no \"params\" object", name,
                            boxed ? line_of(text, 0, "device", NULL) : 1);
    if (params && !json_is_object(params))
        return ss_error_set(err, SS_EPARSE, "%s:%d: \"params\" must be an object", name,
                            line_of(text, boxed, "params", NULL));
    json_object_foreach((json_t *)params, key, val)
    {
        char num[40];
        const char *s = NULL;
        if (json_is_number(val)) {
            ss_util_format_double(num, json_number_value(val));
            s = num;
        } else if (json_is_string(val)) {
            s = json_string_value(val);
        } else {
            return ss_error_set(err, SS_EPARSE, "%s:%d: parameter '%s' needs a number or a name",
                                name, line_of(text, boxed, "params", key), key);
        }
        if (!strcasecmp(key, "polarity"))
            return ss_error_set(err, SS_EPARSE,
                                "%s:%d: polarity belongs next to \"params\", not inside it", name,
                                line_of(text, boxed, "params", key));
        ss_error e2;
        if ((rc = ss_device_set_param(d, key, s, &e2)))
            return ss_error_set(err, SS_EPARSE, "%s:%d: %s", name,
                                line_of(text, boxed, "params", key), e2.msg);
    }
    ss_error e2;
    if ((rc = ss_device_validate(d, &e2))) {
        char pn[64];
        const char *p = named_param(e2.msg, pn, sizeof pn);
        int line = p && json_object_get(params, p) ? line_of(text, boxed, "params", p)
                                                     : line_of(text, boxed, params ? "params" : NULL, NULL);
        return ss_error_set(err, SS_EINVAL, "%s:%d: %s", name, line, e2.msg);
    }
    return SS_OK;
}

int ss_device_parse(const char *text, const char *name, ss_device *d, ss_error *err)
{
    json_t *root;
    if (!name)
        name = "device file";
    int rc = ss_json_parse(text, name, &root, err);
    if (rc)
        return rc;
    rc = from_json(root, text, name, d, err);
    json_decref(root);
    return rc;
}

int ss_device_load(const char *path, ss_device *d, ss_error *err)
{
    json_t *root;
    char *text;
    int rc = ss_json_load(path, &root, &text, err);
    if (rc)
        return rc;
    rc = from_json(root, text, path, d, err);
    json_decref(root);
    free(text);
    return rc;
}

json_t *ss_device_json(const ss_device *d)
{
    json_t *o = json_object(), *p = json_object();
    int bad = !o || !p;
    bad = bad || json_object_set_new(o, "model", json_string(d->type->name));
    bad = bad || json_object_set_new(o, "polarity", json_integer(d->polarity < 0 ? -1 : 1));
    if (d->hard)
        bad = bad || json_object_set_new(o, "hard", json_true());
    for (size_t k = 0; !bad && k < d->type->nparams; k++) {
        const ss_device_param *dp = &d->type->params[k];
        if (dp->choices)
            bad = json_object_set_new(p, dp->name, json_string(dp->choices[(int)d->p[k]]));
        else
            bad = ss_json_set_number(p, dp->name, d->p[k]);
    }
    if (bad || json_object_set_new(o, "params", p)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int ss_device_save(const ss_device *d, const char *path, ss_error *err)
{
    int rc = ss_device_validate(d, err);
    if (rc)
        return rc;
    json_t *root = json_object(), *dev = ss_device_json(d);
    if (!root || !dev || json_object_set_new(root, "device", dev)) {
        json_decref(root);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    rc = ss_json_write(root, path, err);
    json_decref(root);
    return rc;
}
