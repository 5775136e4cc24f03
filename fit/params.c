/* params.c: a fitted parameter set read back from its JSON file
 * (fit/ss_fit.h, ss_fit_params_load).  JSON is YAML, so libyaml reads it,
 * as cosim/experiment.c reads `params_file:` model files; every number was
 * written with 17 significant digits and comes back as the same double. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "fit/fit_private.h"

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(yaml_document_get_node(doc, p->key));
        if (k && !strcmp(k, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static int line_of(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 1;
}

static int read_device(yaml_document_t *doc, yaml_node_t *root, const char *name, ss_device *d,
                       int *polarity, ss_error *err)
{
    if (!root || root->type != YAML_MAPPING_NODE)
        return ss_error_set(err, SS_EPARSE,
                            "%s:%d: a parameter file is a JSON object with \"device\": {\"model\", "
                            "\"polarity\", \"params\"} (smallsim fit -o writes one)",
                            name, line_of(root));
    yaml_node_t *dev = get(doc, root, "device");
    if (dev && dev->type != YAML_MAPPING_NODE)
        return ss_error_set(err, SS_EPARSE, "%s:%d: \"device\" must be an object", name,
                            line_of(dev));
    yaml_node_t *box = dev ? dev : root;
    yaml_node_t *mn = get(doc, box, "model"), *pn = get(doc, box, "params"),
                *po = get(doc, box, "polarity");
    const char *model = scalar(mn);
    if (!model)
        return ss_error_set(err, SS_EPARSE, "%s:%d: no \"model\" (vteam, yakopcic or yakopcic2020)",
                            name, line_of(mn ? mn : box));
    const ss_device_type *t = ss_device_type_find(model);
    if (!t)
        return ss_error_set(err, SS_EPARSE, "%s:%d: unknown model '%s' (vteam, yakopcic, "
                                            "yakopcic2020)",
                            name, line_of(mn), model);
    if (!pn || pn->type != YAML_MAPPING_NODE)
        return ss_error_set(err, SS_EPARSE, "%s:%d: no \"params\" object", name,
                            line_of(pn ? pn : box));
    int pol = 1;
    if (po) {
        const char *s = scalar(po);
        if (s && (!strcmp(s, "1") || !strcmp(s, "+1") || !strcmp(s, "normal")))
            pol = 1;
        else if (s && (!strcmp(s, "-1") || !strcmp(s, "reversed")))
            pol = -1;
        else
            return ss_error_set(err, SS_EPARSE, "%s:%d: polarity must be 1 or -1, not '%s'", name,
                                line_of(po), s ? s : "(not a value)");
    }
    ss_device_init(d, t);
    ss_error e2;
    for (yaml_node_pair_t *p = pn->data.mapping.pairs.start; p < pn->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key),
                    *vn = yaml_document_get_node(doc, p->value);
        const char *k = scalar(kn), *v = scalar(vn);
        if (!k)
            return ss_error_set(err, SS_EPARSE, "%s:%d: a parameter name must be a string", name,
                                line_of(kn));
        if (!v || !strcmp(v, "null"))
            return ss_error_set(err, SS_EPARSE, "%s:%d: parameter '%s' has no value", name,
                                line_of(vn), k);
        if (ss_device_set_param(d, k, v, &e2))
            return ss_error_set(err, e2.code == SS_ENOTFOUND ? SS_EPARSE : e2.code, "%s:%d: %s",
                                name, line_of(kn), e2.msg);
    }
    if (ss_device_validate(d, &e2))
        return ss_error_set(err, SS_EINVAL, "%s:%d: %s", name, line_of(pn), e2.msg);
    if (polarity)
        *polarity = pol;
    return SS_OK;
}

int ss_fit_params_parse(const char *text, const char *name, ss_device *d, int *polarity,
                        ss_error *err)
{
    if (!name)
        name = "parameters";
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""),
                                 text ? strlen(text) : 0);
    int rc = SS_OK;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = ss_error_set(err, SS_EPARSE, "%s:%d: %s", name, (int)parser.problem_mark.line + 1,
                          parser.problem ? parser.problem : "syntax error");
        yaml_parser_delete(&parser);
        return rc;
    }
    yaml_parser_delete(&parser);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        rc = ss_error_set(err, SS_EPARSE, "%s: empty file", name);
    else
        rc = read_device(&doc, root, name, d, polarity, err);
    yaml_document_delete(&doc);
    return rc;
}

int ss_fit_params_load(const char *path, ss_device *d, int *polarity, ss_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = ss_util_read_file(path, &text, &len, err); /* refuses NUL bytes */
    if (rc)
        return rc;
    rc = ss_fit_params_parse(text, path, d, polarity, err);
    free(text);
    return rc;
}
