// Workflow designer (/admin/workflows/<key>/design): the tables, the JSON tab and the diagram
// kept in step in the browser. The page works without this script (its 添加一行 / 删除 buttons
// post the form); here they act at once, every edit rewrites the JSON definition and, 300 ms
// later, the diagram is redrawn by the server.
//
// toTables / tablesFromForm / fromTables are ports of fengqiao/cases/workflow_tables.py: keep
// them in step (tests/browser/test_workflow_designer.py compares both on the same rows).
(function () {
  "use strict";

  var form = document.querySelector("form[data-wfd]");
  if (!form) return;
  var V = JSON.parse(form.getAttribute("data-vocab"));
  var textarea = form.querySelector("textarea[name=definition]");
  var jsonStatus = form.querySelector("[data-wfd-json-status]");
  var jsonHelp = jsonStatus ? jsonStatus.textContent : "";
  var diagramBox = form.querySelector("[data-wfd-diagram]");
  var statusBox = form.querySelector("[data-wfd-status]");
  var problemList = form.querySelector("[data-wfd-problems]");
  var saveButton = form.querySelector("[data-wfd-save]");
  var TRUE_VALUES = ["y", "on", "1", "true"];
  var KEY_PREFIX = { states: "state", transitions: "step", fields: "field" };

  // ---- helpers -------------------------------------------------------------------------

  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }
  function has(obj, key) { return isObj(obj) && Object.prototype.hasOwnProperty.call(obj, key); }
  function str(v) { return v === undefined || v === null ? "" : String(v); }
  function list(v) { return Array.isArray(v) ? v.map(String) : []; }
  function sameJSON(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }

  // ---- definition -> tables (workflow_tables.to_tables) --------------------------------

  function limitCells(limit) {
    if (isObj(limit) && Object.keys(limit).length === 1) {
      var unit = Object.keys(limit)[0];
      return [str(limit[unit]), unit];
    }
    return ["", ""];
  }

  function choicesOf(schema) {
    if (!isObj(schema)) return null;
    if (Array.isArray(schema.oneOf) && schema.oneOf.length && schema.oneOf.every(function (o) {
      return isObj(o) && typeof o.const === "string";
    })) {
      return schema.oneOf.map(function (o) { return [o.const, str(has(o, "title") ? o.title : o.const)]; });
    }
    if (Array.isArray(schema.enum) && schema.enum.length && schema.enum.every(function (v) { return typeof v === "string"; })) {
      return schema.enum.map(function (v) { return [v, v]; });
    }
    return null;
  }

  function optionsText(schema) {
    return (choicesOf(schema) || []).map(function (c) { return c[0] === c[1] ? c[0] : c[0] + "=" + c[1]; }).join("\n");
  }

  function parseOptions(text) {
    var out = [];
    str(text).replace(/\r/g, "").split("\n").forEach(function (line) {
      line = line.trim();
      if (!line) return;
      var normal = line.replace(/＝/g, "=");
      var at = normal.indexOf("=");
      if (at < 0) { out.push([line, line]); return; }
      var value = normal.slice(0, at).trim(), title = normal.slice(at + 1).trim();
      out.push([value, title || value]);
    });
    return out;
  }

  function fieldKind(schema) {
    if (!isObj(schema)) return "other";
    var type = schema.type;
    if (type === "array") {
      var items = schema.items;
      if (isObj(items) && items.format === "attachment") {
        return items.contentMediaType === "*/*" || schema.contentMediaType === "*/*" ? "file" : "photo";
      }
      return "other";
    }
    if (has(schema, "enum") || has(schema, "oneOf")) return type === "string" && choicesOf(schema) ? "select" : "other";
    if (has(schema, "const")) return "other";
    if (type === "number" || type === "integer") return "number";
    if (type === "string") {
      if (schema.format === "date") return "date";
      if (!has(schema, "format")) return schema["x-widget"] === "textarea" ? "textarea" : "text";
    }
    return "other";
  }

  function newFieldSchema(kind, title, options) {
    switch (kind) {
      case "text": return { type: "string", title: title, maxLength: 200 };
      case "textarea": return { type: "string", title: title, maxLength: 2000, "x-widget": "textarea" };
      case "number": return { type: "number", title: title };
      case "date": return { type: "string", format: "date", title: title };
      case "select": return { type: "string", title: title, oneOf: options.map(function (o) { return { const: o[0], title: o[1] }; }) };
      case "photo": return { type: "array", title: title, items: { type: "string", format: "attachment" }, maxItems: 9 };
      case "file": return { type: "array", title: title, items: { type: "string", format: "attachment", contentMediaType: "*/*" }, maxItems: 9 };
    }
    throw new Error(kind);
  }

  function effectsOf(t) { return Array.isArray(t.effects) ? t.effects : []; }
  function sourcesOf(t) { return Array.isArray(t.from) ? t.from : []; }
  function entering(key, ts) {
    return ts.filter(function (t) { return t.to === key && sourcesOf(t).some(function (s) { return s !== key; }); });
  }
  function leaving(key, ts) {
    return ts.filter(function (t) { return sourcesOf(t).indexOf(key) >= 0 && t.to !== key; });
  }
  function pausesClock(key, ts) {
    var into = entering(key, ts);
    return into.length > 0 && into.every(function (t) { return effectsOf(t).indexOf("pause_sla") >= 0; }) &&
      leaving(key, ts).every(function (t) {
        return effectsOf(t).indexOf("resume_sla") >= 0 || effectsOf(t).indexOf("pause_sla") >= 0;
      });
  }

  function toTables(d) {
    d = isObj(d) ? d : {};
    var wf = isObj(d.workflow) ? d.workflow : {};
    var states = (Array.isArray(wf.states) ? wf.states : []).filter(isObj);
    var transitions = (Array.isArray(wf.transitions) ? wf.transitions : []).filter(isObj);
    var sla = isObj(d.sla) ? d.sla : {};
    var def = limitCells(sla["default"]);
    var tiers = isObj(sla.tiers) ? sla.tiers : {};
    var notify = isObj(sla.notify) ? sla.notify : {};
    var slaRows = {
      field: str(sla.field), default_amount: def[0], default_unit: def[1] || V.limit[0],
      tiers: Object.keys(tiers).map(function (value) {
        var cells = limitCells(tiers[value]);
        return { value: value, amount: cells[0], unit: cells[1] };
      }),
      escalation: (Array.isArray(sla.escalation) ? sla.escalation : []).filter(isObj).map(function (step) {
        var cells = limitCells(step.after);
        return { amount: cells[0], unit: cells[1], level: str(step.level) };
      })
    };
    V.sla_events.forEach(function (event) {  // the declared recipients, else the defaults
      slaRows["notify_" + event] = Array.isArray(notify[event]) ? list(notify[event]) : list(V.sla_defaults[event]);
    });
    return {
      title: str(d.title), prefix: str(d.prefix), description: str(d.description), org: str(d.org),
      initial: str(wf.initial),
      sla: slaRows,
      states: states.map(function (s, i) {
        return { orig: String(i), key: str(s.key), title: str(s.title), "final": !!s["final"],
                 pauses: pausesClock(s.key, transitions) };
      }),
      transitions: transitions.map(transitionRow)
    };
  }

  function transitionRow(t, i) {
    var step = isObj(t.step_limit) ? t.step_limit : {};
    var stepCells = limitCells(step["default"]), deadline = limitCells(t.deadline);
    var fields = isObj(t.fields) ? t.fields : {};
    var props = isObj(fields.properties) ? fields.properties : {};
    var required = list(fields.required);
    var guards = list(t.guards);
    return {
      orig: String(i), name: str(t.name), title: str(t.title), from: list(t.from), to: str(t.to),
      roles: list(t.roles), levels: list(t.levels),
      guards: guards.filter(function (g) { return g !== V.comment; }), comment: guards.indexOf(V.comment) >= 0,
      effects: list(t.effects), notify: list(t.notify),
      step_title: str(step.title), step_amount: stepCells[0], step_unit: stepCells[1] || V.step[0],
      deadline_amount: deadline[0], deadline_unit: deadline[1] || V.limit[0],
      public_note: str(t.public_note),
      fields: Object.keys(props).map(function (name) {
        var p = props[name], kind = fieldKind(p);
        return { orig: name, name: name, title: isObj(p) ? str(p.title) : "", kind: kind,
                 required: required.indexOf(name) >= 0, options: kind === "select" ? optionsText(p) : "" };
      })
    };
  }

  // ---- the posted rows -> tables (workflow_tables.tables_from_form) ---------------------

  function tablesFromForm(data) {
    var names = [];
    data.forEach(function (_v, k) { if (names.indexOf(k) < 0) names.push(k); });
    function text(name) { var v = data.get(name); return v === null ? "" : String(v); }
    function flag(name) { return TRUE_VALUES.indexOf(text(name).trim().toLowerCase()) >= 0; }
    function codes(name) { return data.getAll(name).map(String).filter(function (v) { return v; }); }
    function indices(prefix) {
      var found = {}, re = new RegExp("^" + prefix.replace(/[-]/g, "\\-") + "-(\\d+)-");
      names.forEach(function (n) { var m = re.exec(n); if (m) found[+m[1]] = true; });
      return Object.keys(found).map(Number).sort(function (a, b) { return a - b; });
    }
    function cells(prefix, spec) {
      return indices(prefix).map(function (i) {
        var row = {};
        Object.keys(spec).forEach(function (col) { row[col] = spec[col](prefix + "-" + i + "-" + col); });
        return row;
      });
    }
    var tables = {};
    ["title", "prefix", "description", "org", "initial"].forEach(function (k) { tables[k] = text(k); });
    tables.sla = {
      field: text("sla-field"), default_amount: text("sla-default_amount"), default_unit: text("sla-default_unit"),
      tiers: cells("sla-tiers", { value: text, amount: text, unit: text }),
      escalation: cells("sla-escalation", { amount: text, unit: text, level: text })
    };
    if (names.indexOf("sla-notify") >= 0) {  // the pickers were on the page
      V.sla_events.forEach(function (event) { tables.sla["notify_" + event] = codes("sla-notify_" + event); });
    }
    tables.states = cells("states", { orig: text, key: text, title: text, "final": flag, pauses: flag });
    var spec = { orig: text, name: text, title: text, from: codes, to: text, roles: codes, levels: codes,
                 guards: codes, comment: flag, effects: codes, notify: codes, step_title: text, step_amount: text,
                 step_unit: text, deadline_amount: text, deadline_unit: text, public_note: text };
    tables.transitions = indices("transitions").map(function (i) {
      var row = {};
      Object.keys(spec).forEach(function (col) { row[col] = spec[col]("transitions-" + i + "-" + col); });
      row.fields = cells("transitions-" + i + "-fields", { orig: text, name: text, title: text, kind: text,
                                                           required: flag, options: text });
      return row;
    });
    return tables;
  }

  // ---- tables -> definition (workflow_tables.from_tables) -------------------------------

  function parseAmount(text) {
    var raw = str(text).trim();
    if (!raw) return null;
    if (/^\d+$/.test(raw)) return parseInt(raw, 10);
    if (/^(\d+\.\d*|\.\d+)$/.test(raw)) return parseFloat(raw);
    return raw;
  }

  function limitOf(amount, unit, units) {
    var value = parseAmount(amount);
    if (value === null || typeof value === "string" || units.indexOf(unit) < 0) return null;
    var out = {};
    out[unit] = value;
    return out;
  }

  function ordered(chosen, base, canonical) {
    var wanted = {}, seen = {}, out = [];
    chosen.forEach(function (v) { wanted[v] = true; });
    (Array.isArray(base) ? base : []).forEach(function (v) { if (wanted[v] === true) { out.push(v); seen[v] = true; } });
    canonical.concat(chosen).forEach(function (v) {
      if (wanted[v] === true && !seen[v]) { out.push(v); seen[v] = true; }
    });
    return out;
  }

  function isEmpty(v) {
    return v === null || v === undefined || v === false || v === "" ||
      (Array.isArray(v) && !v.length) || (isObj(v) && !Object.keys(v).length);
  }

  function put(target, key, value) {
    if (!isEmpty(value)) { target[key] = value; return; }
    var keep = has(target, key) && sameJSON(target[key], value) && Array.isArray(target[key]) === Array.isArray(value);
    if (!keep) delete target[key];
  }

  function index(raw, size) {
    if (!/^\d+$/.test(str(raw))) return null;
    var i = parseInt(raw, 10);
    return i >= 0 && i < size ? i : null;
  }

  function fromTables(tables, baseDefinition) {
    var d = isObj(baseDefinition) ? clone(baseDefinition) : {};
    var baseWf = isObj(d.workflow) ? d.workflow : {};
    var baseStates = (Array.isArray(baseWf.states) ? baseWf.states : []).map(function (s) { return isObj(s) ? s : {}; });
    var baseTransitions = (Array.isArray(baseWf.transitions) ? baseWf.transitions : []).map(function (t) { return isObj(t) ? t : {}; });
    d.title = str(tables.title).trim();
    d.prefix = str(tables.prefix).trim();
    put(d, "description", str(tables.description).trim());
    buildSla(tables, d);

    var states = [], renamed = {};
    tables.states.forEach(function (row) {
      var orig = index(row.orig, baseStates.length);
      var state = orig !== null ? clone(baseStates[orig]) : {};
      var key = str(row.key).trim();
      var old = orig !== null ? baseStates[orig].key : undefined;
      if (key && old !== undefined && old !== null && old !== "" && old !== key) renamed[old] = key;
      state.key = key;
      state.title = str(row.title).trim();
      put(state, "final", !!row["final"]);
      states.push(state);
    });
    function follow(key) { return key && has(renamed, key) ? renamed[key] : key; }
    var order = states.map(function (s) { return s.key; });
    var transitions = tables.transitions.map(function (row) {
      var orig = index(row.orig, baseTransitions.length);
      return buildTransition(row, orig !== null ? baseTransitions[orig] : {}, follow, order);
    });
    applyPauses(tables, baseStates, baseTransitions, transitions);
    var wf = baseWf;
    wf.initial = follow(str(tables.initial).trim());
    wf.states = states;
    wf.transitions = transitions;
    d.workflow = wf;
    if (typeof d.reopen_to === "string") d.reopen_to = follow(d.reopen_to);
    return d;
  }

  function buildSla(tables, d) {
    var rows = tables.sla;
    var sla = isObj(d.sla) ? d.sla : {};
    put(sla, "field", str(rows.field).trim());
    var tiers = {};
    rows.tiers.forEach(function (row) {
      var value = str(row.value).trim();
      var limit = limitOf(row.amount, row.unit, V.limit);
      if (value && limit !== null && !has(tiers, value)) tiers[value] = limit;
    });
    put(sla, "tiers", tiers);
    put(sla, "default", limitOf(rows.default_amount, rows.default_unit, V.limit));
    var ladder = [];
    rows.escalation.forEach(function (row) {
      var after = limitOf(row.amount, row.unit, V.wait), level = str(row.level).trim();
      if (after === null && !level) return;
      ladder.push({ after: after || {}, level: level });
    });
    put(sla, "escalation", ladder);
    buildSlaNotify(rows, sla);
    if (Object.keys(sla).length) d.sla = sla; else delete d.sla;
  }

  function buildSlaNotify(rows, sla) {
    var base = isObj(sla.notify) ? sla.notify : null;
    var notify = base !== null ? clone(base) : {};
    V.sla_events.forEach(function (event) {
      var chosen = rows["notify_" + event];
      if (!Array.isArray(chosen)) return;
      var declared = Array.isArray(notify[event]) ? notify[event] : null;
      var defaults = list(V.sla_defaults[event]);
      var same = chosen.every(function (c) { return defaults.indexOf(c) >= 0; }) &&
        defaults.every(function (c) { return chosen.indexOf(c) >= 0; });
      if (declared === null && same) return;
      notify[event] = ordered(chosen.map(String), declared !== null ? declared : defaults, V.sla_notify);
    });
    if (Object.keys(notify).length || base !== null) sla.notify = notify;
  }

  function buildTransition(row, base, follow, stateOrder) {
    var t = clone(base);
    t.name = str(row.name).trim();
    t.title = str(row.title).trim();
    t.from = ordered(row.from.map(follow), base.from, stateOrder);
    t.to = follow(str(row.to).trim());
    t.roles = ordered(row.roles, base.roles, V.roles);
    put(t, "levels", ordered(row.levels, base.levels, V.levels));
    var guards = row.guards.filter(function (g) { return g !== V.comment; }).concat(row.comment ? [V.comment] : []);
    put(t, "guards", ordered(guards, base.guards, V.guards));
    put(t, "effects", ordered(row.effects, base.effects, V.effects));
    put(t, "notify", ordered(row.notify, base.notify, V.notify));
    var stepTitle = str(row.step_title).trim();
    var step = limitOf(row.step_amount, row.step_unit, V.step);
    if (stepTitle || step !== null || str(row.step_amount).trim()) {
      var stepLimit = isObj(base.step_limit) ? clone(base.step_limit) : {};
      stepLimit.title = stepTitle;
      put(stepLimit, "default", step);
      t.step_limit = stepLimit;
    } else {
      delete t.step_limit;
    }
    put(t, "deadline", limitOf(row.deadline_amount, row.deadline_unit, V.limit));
    put(t, "public_note", str(row.public_note).trim());
    buildFields(row.fields, t, base);
    addEffectFields(t);
    return t;
  }

  // The field an effect reads, added when the effect is ticked (as workflow_tables.EFFECT_FIELDS).
  var EFFECT_FIELDS = {
    dispatch: ["unit", {type: "string", title: "承办单位", minLength: 1, maxLength: 32}],
    summon: ["units", {type: "array", title: "吹哨通知的部门", minItems: 1, maxItems: 10, uniqueItems: true,
                       items: {type: "string", minLength: 1, maxLength: 32}}]
  };

  function addEffectFields(t) {
    Object.keys(EFFECT_FIELDS).forEach(function (effect) {
      if (effectsOf(t).indexOf(effect) < 0) return;
      var name = EFFECT_FIELDS[effect][0];
      var fields = isObj(t.fields) ? t.fields : {type: "object", additionalProperties: false};
      var props = isObj(fields.properties) ? fields.properties : {};
      if (Object.prototype.hasOwnProperty.call(props, name)) return;
      props[name] = clone(EFFECT_FIELDS[effect][1]);
      fields.properties = props;
      fields.required = (Array.isArray(fields.required) ? fields.required : []).concat([name]);
      t.fields = fields;
    });
  }

  function buildFields(rows, t, base) {
    var baseFields = isObj(base.fields) ? base.fields : null;
    var baseProps = baseFields && isObj(baseFields.properties) ? baseFields.properties : {};
    var baseRequired = list(baseFields ? baseFields.required : null);
    if (!rows.length) {
      if (baseFields === null || !Object.keys(baseProps).length) return;
      delete t.fields;
      return;
    }
    var props = {}, required = [], renamed = {};
    rows.forEach(function (row) {
      var name = str(row.name).trim(), title = str(row.title).trim(), kind = str(row.kind).trim();
      var orig = str(row.orig);
      var baseProp = orig && has(baseProps, orig) ? baseProps[orig] : null;
      if (orig && has(baseProps, orig) && orig !== name) renamed[orig] = name;
      var options = parseOptions(row.options);
      var prop;
      if (baseProp !== null && kind === fieldKind(baseProp)) {
        prop = clone(baseProp);
        prop.title = title;
        var posted = options.map(function (o) { return o[0] === o[1] ? o[0] : o[0] + "=" + o[1]; }).join("\n");
        if (kind === "select" && optionsText(baseProp) !== posted) {
          delete prop["enum"];
          delete prop["x-enum-titles"];
          prop.oneOf = options.map(function (o) { return { const: o[0], title: o[1] }; });
        }
      } else if (V.kinds.indexOf(kind) >= 0) {
        prop = newFieldSchema(kind, title, options);
        if (isObj(baseProp) && typeof baseProp.description === "string") prop.description = baseProp.description;
      } else {
        prop = isObj(baseProp) ? clone(baseProp) : { title: title };
      }
      var isRequired = !!row.required;
      if ((kind === "photo" || kind === "file") && isObj(prop)) {
        if (isRequired && !(typeof prop.minItems === "number" && prop.minItems % 1 === 0 && prop.minItems >= 1)) {
          prop.minItems = 1;
        } else if (!isRequired && baseRequired.indexOf(orig) >= 0 && prop.minItems === 1) {
          delete prop.minItems;
        }
      }
      if (name) {
        props[name] = prop;
        if (isRequired) required.push(name);
      }
    });
    var fields = baseFields !== null ? clone(baseFields) : { type: "object" };
    fields.properties = props;
    put(fields, "required", ordered(required, baseRequired.map(function (n) { return has(renamed, n) ? renamed[n] : n; }),
                                    Object.keys(props)));
    if (baseFields === null) fields.additionalProperties = false;
    t.fields = fields;
  }

  function applyPauses(tables, baseStates, baseTransitions, transitions) {
    var pausing = {};
    tables.states.forEach(function (r) { if (r.pauses) pausing[str(r.key).trim()] = true; });
    tables.states.forEach(function (row) {
      var key = str(row.key).trim();
      var orig = index(row.orig, baseStates.length);
      var before = orig !== null && pausesClock(baseStates[orig].key, baseTransitions);
      if (row.pauses) {
        entering(key, transitions).forEach(function (t) { addEffect(t, "pause_sla"); });
        leaving(key, transitions).forEach(function (t) { if (!pausing[t.to]) addEffect(t, "resume_sla"); });
      } else if (before) {
        entering(key, transitions).forEach(function (t) { dropEffect(t, "pause_sla"); });
        leaving(key, transitions).forEach(function (t) { dropEffect(t, "resume_sla"); });
      }
    });
  }
  function addEffect(t, effect) {
    var effects = effectsOf(t);
    if (effects.indexOf(effect) < 0) t.effects = effects.concat([effect]);
  }
  function dropEffect(t, effect) {
    if (effectsOf(t).indexOf(effect) >= 0) t.effects = t.effects.filter(function (e) { return e !== effect; });
  }

  // ---- the rows on the page -------------------------------------------------------------

  function rowsIn(container, kind) {
    if (!container) return [];
    return Array.prototype.filter.call(container.children, function (el) {
      return el.getAttribute("data-wfd-row") === kind;
    });
  }
  function stateRows() { return rowsIn(form.querySelector("[data-wfd-rows=states]"), "states"); }
  function transitionRows() { return rowsIn(form.querySelector("[data-wfd-rows-table=transitions]"), "transitions"); }
  function fieldRows(tRow) { return rowsIn(tRow.querySelector("[data-wfd-rows=fields]"), "fields"); }
  function simpleRows(kind) { return rowsIn(form.querySelector("[data-wfd-rows=" + kind + "]"), kind); }

  var ATTRS = ["name", "id", "for", "data-wfd-choices"];
  function rewrite(el, re, replacement) {
    var nodes = [el].concat(Array.prototype.slice.call(el.querySelectorAll("*")));
    nodes.forEach(function (node) {
      ATTRS.forEach(function (a) {
        var v = node.getAttribute && node.getAttribute(a);
        if (v && re.test(v)) node.setAttribute(a, v.replace(re, replacement));
      });
    });
  }

  // Rows are numbered in page order (states-0-…, states-1-…): what the server reads.
  function renumber() {
    stateRows().forEach(function (row, i) { rewrite(row, /^((?:f-|remove-)?states-)\d+/, "$1" + i); });
    transitionRows().forEach(function (row, i) {
      rewrite(row, /^((?:f-|remove-)?transitions-)\d+/, "$1" + i);
      var add = row.querySelector("button[name=add_field]");
      if (add) add.value = String(i);
      fieldRows(row).forEach(function (f, j) {
        rewrite(f, /^((?:f-|remove-)?transitions-\d+-fields-)\d+/, "$1" + j);
      });
      var count = row.querySelector("[data-wfd-field-count]");
      if (count) count.textContent = "（字段 " + fieldRows(row).length + " 个）";
    });
    ["tiers", "escalation"].forEach(function (kind) {
      var re = new RegExp("^((?:f-|remove-)?sla-" + kind + "-)\\d+");
      simpleRows(kind).forEach(function (row, j) { rewrite(row, re, "$1" + j); });
    });
  }

  function fromTemplate(kind) {
    var tpl = form.querySelector("template[data-wfd-template=" + kind + "]");
    var holder = document.createElement("template");
    holder.innerHTML = tpl.innerHTML.replace(/__i__/g, "0").replace(/__j__/g, "0");
    return holder.content.querySelector("[data-wfd-row=" + kind + "]");
  }

  function freeKey(prefix, taken) {
    var n = 1;
    while (taken.indexOf(prefix + n) >= 0) n++;
    return prefix + n;
  }

  function addRow(kind, tRow) {
    var row = fromTemplate(kind);
    if (kind === "states") {
      var key = freeKey("state", currentStates().map(function (s) { return s.key; }));
      row.querySelector("input[name$=-key]").value = key;
      row.setAttribute("data-key", key);
      form.querySelector("[data-wfd-rows=states]").appendChild(row);
    } else if (kind === "transitions") {
      var names = transitionRows().map(function (r) { return r.querySelector("input[name$=-name]").value.trim(); });
      row.querySelector("input[name$=-name]").value = freeKey("step", names);
      form.querySelector("[data-wfd-rows-table=transitions]").appendChild(row);
    } else if (kind === "fields") {
      var taken = fieldRows(tRow).map(function (r) { return r.querySelector("input[name$=-name]").value.trim(); });
      row.querySelector("input[name$=-name]").value = freeKey("field", taken);
      tRow.querySelector("[data-wfd-rows=fields]").appendChild(row);
    } else {
      form.querySelector("[data-wfd-rows=" + kind + "]").appendChild(row);
    }
    renumber();
    refreshStateChoices();
    prepare(row);
    return row;
  }

  // ---- state choices (from / to / initial follow the states table live) ----------------

  function currentStates() {
    return stateRows().map(function (row) {
      return { key: row.querySelector("input[name$=-key]").value.trim(),
               title: row.querySelector("input[name$=-title]").value.trim() };
    }).filter(function (s) { return s.key; });
  }

  function fillSelect(select, states, extra) {
    var value = select.value || select.getAttribute("data-value") || "";
    var blank = select.querySelector("option[value='']");
    var blankText = blank ? blank.textContent : "（请选择）";
    select.textContent = "";
    select.appendChild(new Option(blankText, ""));
    var known = {};
    states.forEach(function (s) { known[s.key] = true; select.appendChild(new Option(s.title || s.key, s.key)); });
    if (value && !known[value]) select.appendChild(new Option(value, value));
    if (extra && !known[extra] && extra !== value) select.appendChild(new Option(extra, extra));
    select.value = value;
  }

  function fillChecks(box, states, checkedValues) {
    var name = box.getAttribute("data-wfd-choices");
    var checked = checkedValues || Array.prototype.filter.call(box.querySelectorAll("input"), function (i) {
      return i.checked;
    }).map(function (i) { return i.value; });
    box.textContent = "";
    var known = {};
    function add(value, label) {
      var input = document.createElement("input");
      input.type = "checkbox"; input.name = name; input.value = value; input.checked = checked.indexOf(value) >= 0;
      var lab = document.createElement("label");
      lab.className = "wfd-check";
      var span = document.createElement("span");
      span.textContent = label;
      lab.appendChild(input); lab.appendChild(document.createTextNode(" ")); lab.appendChild(span);
      box.appendChild(lab);
    }
    states.forEach(function (s) { known[s.key] = true; add(s.key, s.title || s.key); });
    checked.forEach(function (v) { if (!known[v]) add(v, v); });
  }

  function refreshStateChoices() {
    var states = currentStates();
    each(form.querySelectorAll("select[data-wfd-states]"), function (s) { fillSelect(s, states); });
    transitionRows().forEach(function (row) {
      var box = row.querySelector("[data-wfd-choices$=-from]");
      if (box) fillChecks(box, states);
    });
    each(form.querySelectorAll("details[data-wfd-pick]"), summarise);
  }

  function renameState(oldKey, newKey) {
    each(form.querySelectorAll("select[data-wfd-states]"), function (select) {
      if (select.value === oldKey) { select.setAttribute("data-value", newKey); select.value = ""; }
    });
    transitionRows().forEach(function (row) {
      each(row.querySelectorAll("[data-wfd-choices$=-from] input"), function (input) {
        if (input.value === oldKey) input.value = newKey;
      });
    });
    refreshStateChoices();
    each(form.querySelectorAll("select[data-wfd-states][data-value]"), function (s) { s.removeAttribute("data-value"); });
  }

  function summarise(details) {
    var summary = details.querySelector("[data-wfd-pick-summary]");
    if (!summary) return;
    var chosen = Array.prototype.filter.call(details.querySelectorAll("input[type=checkbox]"), function (i) {
      return i.checked;
    }).map(function (i) { return i.parentNode.querySelector("span").textContent; });
    summary.textContent = "";
    if (chosen.length) {
      summary.textContent = chosen.join("、");
    } else {
      var muted = document.createElement("span");
      muted.className = "muted";
      muted.textContent = summary.getAttribute("data-empty") || "（未选）";
      summary.appendChild(muted);
    }
  }

  function showOptions(fieldRow) {
    var kind = fieldRow.querySelector("select[data-wfd-kind]");
    fieldRow.classList.toggle("wfd-no-options", !kind || kind.value !== "select");
  }

  function prepare(scope) {
    each(scope.querySelectorAll("[data-wfd-row=fields]"), showOptions);
    if (scope.getAttribute && scope.getAttribute("data-wfd-row") === "fields") showOptions(scope);
    each(scope.querySelectorAll("details[data-wfd-pick]"), summarise);
  }

  // ---- tables -> JSON -> diagram --------------------------------------------------------

  var base = null;
  function readBase() {
    try {
      var parsed = JSON.parse(textarea.value);
      base = isObj(parsed) ? parsed : null;
    } catch (e) {
      base = null;
    }
    return base;
  }

  function markOrigins() {
    stateRows().forEach(function (row, i) {
      row.querySelector("input[name$=-orig]").value = String(i);
      row.setAttribute("data-key", row.querySelector("input[name$=-key]").value.trim());
    });
    transitionRows().forEach(function (row, i) {
      row.querySelector("input[name=transitions-" + i + "-orig]").value = String(i);
      fieldRows(row).forEach(function (f) {
        f.querySelector("input[name$=-orig]").value = f.querySelector("input[name$=-name]").value.trim();
      });
    });
  }

  function syncFromTables() {
    if (base === null) {
      jsonStatus.textContent = "JSON 有格式错误：表格的修改暂不能写入 JSON，请先在「高级（JSON）」中修正。";
      jsonStatus.classList.add("error");
      return;
    }
    var definition = fromTables(tablesFromForm(new FormData(form)), base);
    base = definition;
    textarea.value = JSON.stringify(definition, null, 2);
    markOrigins();
    scheduleDiagram();
  }

  // The JSON tab was edited: redraw the tables from it.
  function syncFromJson() {
    var parsed;
    try {
      parsed = JSON.parse(textarea.value);
    } catch (e) {
      jsonStatus.textContent = "JSON 格式错误：" + e.message + "（表格保持修改前的内容）";
      jsonStatus.classList.add("error");
      return false;
    }
    if (!isObj(parsed)) {
      jsonStatus.textContent = "JSON 定义应为一个对象 {…}";
      jsonStatus.classList.add("error");
      return false;
    }
    jsonStatus.textContent = jsonHelp;
    jsonStatus.classList.remove("error");
    base = parsed;
    fillTables(toTables(parsed));
    scheduleDiagram();
    return true;
  }

  function setValue(el, value) {
    if (el.tagName === "SELECT") {
      var found = Array.prototype.some.call(el.options, function (o) { return o.value === value; });
      if (!found && value) el.appendChild(new Option(value, value));
      el.value = value;
    } else {
      el.value = value;
    }
  }

  function fillRow(row, prefix, data) {
    Object.keys(data).forEach(function (col) {
      if (col === "fields") return;
      var name = prefix + col, value = data[col];
      var inputs = row.querySelectorAll("[name='" + name + "']");
      if (Array.isArray(value)) {
        var box = row.querySelector("[data-wfd-choices='" + name + "']");
        if (box && col !== "from") {
          each(box.querySelectorAll("input"), function (i) { i.checked = value.indexOf(i.value) >= 0; });
          value.forEach(function (v) {
            if (!box.querySelector("input[value='" + v.replace(/'/g, "") + "']")) fillChecksExtra(box, name, v);
          });
        } else if (box) {
          fillChecks(box, currentStates(), value);
        }
      } else if (typeof value === "boolean") {
        each(inputs, function (i) { i.checked = value; });
      } else {
        each(inputs, function (i) { setValue(i, value); });
      }
    });
  }

  function fillChecksExtra(box, name, value) {
    var lab = document.createElement("label");
    lab.className = "wfd-check";
    var input = document.createElement("input");
    input.type = "checkbox"; input.name = name; input.value = value; input.checked = true;
    var span = document.createElement("span");
    span.textContent = value;
    lab.appendChild(input); lab.appendChild(document.createTextNode(" ")); lab.appendChild(span);
    box.appendChild(lab);
  }

  function clearRows(kind) {
    var rows = kind === "states" ? stateRows() : kind === "transitions" ? transitionRows() : simpleRows(kind);
    rows.forEach(function (r) { r.parentNode.removeChild(r); });
  }

  function fillTables(t) {
    ["title", "prefix", "description", "org"].forEach(function (k) {
      var el = form.querySelector("[name=" + k + "]");
      if (el) el.value = t[k];
    });
    ["field", "default_amount", "default_unit"].forEach(function (k) {
      setValue(form.querySelector("[name='sla-" + k + "']"), t.sla[k]);
    });
    ["tiers", "escalation"].forEach(function (kind) {
      clearRows(kind);
      t.sla[kind].forEach(function (data) {
        var row = addRow(kind);
        fillRow(row, "sla-" + kind + "-" + (simpleRows(kind).length - 1) + "-", data);
      });
    });
    clearRows("states");
    t.states.forEach(function (data, i) {
      var row = addRow("states");
      fillRow(row, "states-" + i + "-", data);
      row.setAttribute("data-key", data.key);
    });
    refreshStateChoices();
    setValue(form.querySelector("select[name=initial]"), t.initial);
    clearRows("transitions");
    t.transitions.forEach(function (data, i) {
      var row = addRow("transitions");
      fillRow(row, "transitions-" + i + "-", data);
      data.fields.forEach(function (f, j) {
        var fr = addRow("fields", row);
        fillRow(fr, "transitions-" + i + "-fields-" + j + "-", f);
      });
    });
    renumber();
    prepare(form);
  }

  var diagramTimer = null, diagramSeq = 0;
  function scheduleDiagram() {
    clearTimeout(diagramTimer);
    diagramTimer = setTimeout(refreshDiagram, 300);
  }

  function showProblems(problems) {
    problemList.textContent = "";
    (problems || []).forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p.message;
      problemList.appendChild(li);
    });
  }

  function refreshDiagram() {
    if (base === null) return;
    var seq = ++diagramSeq;
    statusBox.textContent = "更新中…";
    fetch(form.getAttribute("data-diagram-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": form.getAttribute("data-csrf-token") },
      body: JSON.stringify({ definition: base })
    }).then(function (response) {
      if (response.status !== 200 && response.status !== 422) throw new Error(String(response.status));
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      if (seq !== diagramSeq) return;
      var problems = answer.body.problems || [];
      if (answer.body.svg) diagramBox.innerHTML = answer.body.svg;
      showProblems(problems);
      statusBox.textContent = answer.status !== 200 ? "暂时画不出（下面是上一次的图）"
        : problems.length ? "有 " + problems.length + " 处待修改" : "已更新";
    }).catch(function () {
      if (seq !== diagramSeq) return;
      statusBox.textContent = "流程图暂不可用（可能登录已过期，请刷新页面）";
    });
  }

  // ---- tabs -----------------------------------------------------------------------------

  function activate(tab) {
    if (tab === "tables" && form.getAttribute("data-source") === "json" && !syncFromJson()) return;
    form.setAttribute("data-source", tab);
    each(form.querySelectorAll("[data-wfd-tab]"), function (b) {
      b.setAttribute("aria-selected", b.getAttribute("data-wfd-tab") === tab ? "true" : "false");
    });
    each(form.querySelectorAll("[data-wfd-panel]"), function (p) { p.hidden = p.getAttribute("data-wfd-panel") !== tab; });
    saveButton.value = tab;
    var implicit = form.querySelector("button.designer-sr[name=source]");  // what Enter presses
    if (implicit) implicit.value = tab;
  }

  // ---- events ---------------------------------------------------------------------------

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !form.contains(button)) return;
    if (button.hasAttribute("data-wfd-tab")) {
      activate(button.getAttribute("data-wfd-tab"));
    } else if (button.hasAttribute("data-wfd-add")) {
      event.preventDefault();
      var kind = button.getAttribute("data-wfd-add");
      var row = addRow(kind, kind === "fields" ? button.closest("[data-wfd-row=transitions]") : null);
      if (kind === "transitions") {
        var more = row.querySelector("details[data-wfd-more]");
        if (more) more.open = false;
      }
      syncFromTables();
      var first = row.querySelector("input[type=text]");
      if (first) first.focus();
    } else if (button.hasAttribute("data-wfd-remove")) {
      event.preventDefault();
      var target = button.closest("[data-wfd-row]");
      var wasState = target.getAttribute("data-wfd-row") === "states";
      target.parentNode.removeChild(target);
      renumber();
      if (wasState) refreshStateChoices();
      syncFromTables();
    }
  });

  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);
  var jsonTimer = null;
  function onEdit(event) {
    var el = event.target;
    if (el === textarea) {
      if (event.type !== "input") return;
      clearTimeout(jsonTimer);
      jsonTimer = setTimeout(syncFromJson, 300);
      return;
    }
    if (!el.name || el.name === "note" || !el.closest("[data-wfd-panel=tables]")) return;
    var stateRow = el.closest("[data-wfd-row=states]");
    if (stateRow && /-key$/.test(el.name)) {
      var oldKey = stateRow.getAttribute("data-key") || "", newKey = el.value.trim();
      var clash = currentStates().filter(function (s) { return s.key === newKey; }).length > 1;
      if (newKey && oldKey && newKey !== oldKey && !clash) renameState(oldKey, newKey);
      if (newKey && !clash) stateRow.setAttribute("data-key", newKey);
    } else if (stateRow && /-title$/.test(el.name)) {
      refreshStateChoices();
    }
    if (el.hasAttribute("data-wfd-kind")) showOptions(el.closest("[data-wfd-row=fields]"));
    var pick = el.closest("details[data-wfd-pick]");
    if (pick) summarise(pick);
    syncFromTables();
  }

  // ---- start ----------------------------------------------------------------------------

  form.classList.add("wfd-js");
  form.querySelector("[data-wfd-tabs]").hidden = false;
  readBase();
  if (base === null && jsonStatus) {
    jsonStatus.textContent = "JSON 有格式错误：修正后表格才会同步。";
    jsonStatus.classList.add("error");
  }
  stateRows().forEach(function (row) {
    row.setAttribute("data-key", row.querySelector("input[name$=-key]").value.trim());
  });
  prepare(form);
  activate(form.getAttribute("data-source") === "json" ? "json" : "tables");
})();
