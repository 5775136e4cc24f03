/* lut_store.c: pulse lookups on disk, so that the ngspice characterisation
 * of a device and its driver (one per individual of the arm tasks) is
 * measured once per run folder: a resumed run, a repeated generation and
 * `l2l eval` of the run's best.json find it in RUNDIR/lut-cache.
 *
 * File DIR/lut-<key>.txt, a sealed text (l2li_seal):
 *     smallsim-l2l-lut 1
 *     model vteam 0            model name, hard flag
 *     p <the model's parameter values>
 *     pulse <x_start> <amp> <width> <series_r>
 *     count <npulses> <spice>   1: measured in ngspice, 0: the C model
 *     x <npulses + 1 states>
 *     end <hash>
 * Doubles are written so that they read back exactly, and every input is
 * compared on reading: a file of another device or pulse (a hash
 * collision, a hand-edited file) counts as damaged. */
#include "l2l/l2l_private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/ss_devices.h"

#define LUT_MAGIC "smallsim-l2l-lut 1"

int l2li_lut_path(char *buf, size_t n, const char *dir, uint64_t key, ss_error *err)
{
    int k = snprintf(buf, n, "%s/lut-%016llx.txt", dir, (unsigned long long)key);
    if (k < 0 || (size_t)k >= n)
        return ss_error_set(err, SS_EINVAL, "%s: folder name too long", dir);
    return SS_OK;
}

static int put_id(ss_buf *b, const l2li_lut_id *id)
{
    const ss_device *d = id->d;
    double pulse[4] = {id->x_start, id->amp, id->width, id->series_r};
    int rc = d->polarity < 0 ? ss_buf_printf(b, LUT_MAGIC "\nmodel %s %d reversed\n", d->type->name, d->hard)
                             : ss_buf_printf(b, LUT_MAGIC "\nmodel %s %d\n", d->type->name, d->hard);
    if (!rc)
        rc = l2li_put_doubles(b, "p", d->p, d->type->nparams);
    if (!rc)
        rc = l2li_put_doubles(b, "pulse", pulse, 4);
    if (!rc)
        rc = ss_buf_printf(b, "count %zu %d\n", id->npulses, id->spice);
    return rc;
}

int l2li_lut_save(const char *dir, uint64_t key, const l2li_lut_id *id,
                  const ss_l2l_pulse_lut *lut, ss_error *err)
{
    char path[4096];
    int rc = l2li_lut_path(path, sizeof path, dir, key, err);
    if (rc)
        return rc;
    if (lut->n != id->npulses)
        return ss_error_set(err, SS_EINVAL, "%s: lookup has %zu pulses, not %zu", path, lut->n,
                            id->npulses);
    ss_buf b = SS_BUF_INIT;
    rc = put_id(&b, id);
    if (!rc)
        rc = l2li_put_doubles(&b, "x", lut->x, lut->n + 1);
    if (!rc)
        rc = l2li_seal(&b);
    if (rc)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else
        rc = ss_util_write_file_atomic(path, b.data, b.len, err);
    ss_buf_release(&b);
    return rc;
}

int l2li_lut_load(const char *dir, uint64_t key, const l2li_lut_id *id, ss_l2l_pulse_lut *lut,
                  ss_error *err)
{
    ss_l2l_lut_release(lut);
    char path[4096], *text = NULL;
    size_t len;
    int rc = l2li_lut_path(path, sizeof path, dir, key, err);
    if (rc)
        return rc;
    if (access(path, F_OK))
        return ss_error_set(err, SS_ENOTFOUND, "%s: no stored lookup", path);
    if ((rc = ss_util_read_file(path, &text, &len, err)))
        return rc == SS_EIO ? rc : SS_EPARSE;
    /* the text it would have if it was made for `id`, up to the states */
    ss_buf want = SS_BUF_INIT;
    l2li_kv kv = {0};
    if (put_id(&want, id)) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = l2li_check_seal(text, len, LUT_MAGIC, "a stored pulse lookup", path, err)))
        goto out;
    if (len < want.len || memcmp(text, want.data, want.len)) {
        rc = ss_error_set(err, SS_EPARSE, "%s: made for another device or pulse", path);
        goto out;
    }
    if (!(lut->x = malloc((id->npulses + 1) * sizeof *lut->x))) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = l2li_kv_parse(&kv, text, path, err)) ||
        (rc = l2li_kv_doubles(&kv, "x", lut->x, id->npulses + 1, err))) {
        rc = SS_EPARSE;
        goto out;
    }
    /* what ss_l2l_lut_measure guarantees: states in [0, 1], monotone, x[0] = x_start */
    int up = lut->x[id->npulses] >= lut->x[0];
    for (size_t k = 0; k <= id->npulses && !rc; k++)
        if (!(lut->x[k] >= 0 && lut->x[k] <= 1) || (k == 0 && lut->x[0] != id->x_start) ||
            (k && (up ? lut->x[k] < lut->x[k - 1] : lut->x[k] > lut->x[k - 1])))
            rc = ss_error_set(err, SS_EPARSE, "%s: state %zu (%g) is out of order or range", path,
                              k, lut->x[k]);
    if (!rc)
        lut->n = id->npulses;
out:
    if (rc)
        ss_l2l_lut_release(lut);
    l2li_kv_release(&kv);
    ss_buf_release(&want);
    free(text);
    return rc;
}

int l2li_lut_cache_load(l2li_lut_cache *c, size_t slot, uint64_t key, const l2li_lut_id *id)
{
    if (!c->dir)
        return 0;
    int rc = l2li_lut_load(c->dir, key, id, &c->lut[slot], NULL);
    if (rc) {
        c->rejected += rc != SS_ENOTFOUND;
        return 0;
    }
    c->key[slot] = key;
    c->loaded++;
    return 1;
}

void l2li_lut_cache_store(l2li_lut_cache *c, size_t slot, uint64_t key, const l2li_lut_id *id)
{
    if (c->dir && l2li_lut_save(c->dir, key, id, &c->lut[slot], NULL))
        c->unsaved++; /* the next run measures it again: slower, not wrong */
}
