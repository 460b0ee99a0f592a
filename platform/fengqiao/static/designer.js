// Form designer: a field editor and a live preview around the JSON definition textarea.
// The textarea is what gets saved; this script only reads and rewrites it, so the page keeps
// working without JavaScript. The editor changes only what it shows: anything else in the
// definition (nested groups, patterns, extra conditions …) is carried over untouched.
(function () {
  "use strict";

  var root = document.querySelector("[data-designer]");
  if (!root) return;
  var textarea = root.querySelector("textarea[name=definition]");
  var editor = root.querySelector("[data-designer-editor]");
  var preview = root.querySelector("[data-designer-preview]");
  var previewStatus = root.querySelector("[data-designer-preview-status]");
  var jsonStatus = root.querySelector("[data-designer-json-status]");
  var jsonHelp = jsonStatus ? jsonStatus.textContent : "";
  var dirtyNote = root.querySelector("[data-designer-dirty]");
  var publishButton = document.querySelector("[data-designer-publish]");
  var publishHint = document.querySelector("[data-designer-publish-hint]");
  var existingKey = root.getAttribute("data-existing-key");
  // 事项类型 choices the server rendered for this admin (value "" = 通用事项, INTAKE = 仅登记).
  var INTAKE = "__intake__";
  var CASE_TYPES = Array.prototype.map.call(root.querySelectorAll("[data-case-type]"), function (li) {
    return { value: li.getAttribute("data-case-type"), label: li.getAttribute("data-title") };
  });
  var savedText = textarea.value;

  var TYPES = [
    ["text", "单行文本"], ["textarea", "多行文本"], ["integer", "整数"], ["number", "数字"],
    ["date", "日期"], ["boolean", "是/否"], ["select", "单选下拉"], ["radio", "单选按钮"],
    ["checkboxes", "多选"], ["image", "图片"], ["file", "附件"], ["mobile", "手机号"],
    ["idcard", "身份证号"]
  ];
  var OTHER_LABEL = "其他（请在 JSON 中修改）";
  // Types in one family share a schema shape: switching between them keeps the schema.
  var FAMILY = {
    text: "string", textarea: "string", integer: "integer", number: "number", date: "date",
    boolean: "boolean", select: "choice", radio: "choice", checkboxes: "multi",
    image: "attachment", file: "attachment", mobile: "mobile", idcard: "idcard", other: "other"
  };
  var TEXTUAL = { text: 1, textarea: 1, mobile: 1, idcard: 1 };
  var CHOICE = { select: 1, radio: 1, checkboxes: 1 };
  var TRIGGER_TYPES = { boolean: 1, select: 1, radio: 1, text: 1, integer: 1, number: 1 };
  var UI_MAPS = ["widgets", "help", "placeholders"];
  // ui.personal kinds (form_definitions/README.md); mobile and ID-card fields are personal by
  // their format, attachments are never shown as text: neither gets the choice.
  var PERSONAL_KINDS = [
    ["", "否"], ["name", "是：姓名（显示为 张*）"], ["address", "是：住址（只显示到楼栋）"],
    ["id-card", "是：证件号码（中间打码）"], ["mobile", "是：电话号码（中间打码）"],
    ["text", "是：文字中的号码打码"], ["secret", "是：完全隐藏（如健康、低保）"]
  ];
  var NO_PERSONAL_CHOICE = { mobile: 1, idcard: 1, image: 1, file: 1 };

  var state = null; // {base, meta, fields, condSig}
  var nextUid = 1;

  // ---- helpers -------------------------------------------------------------------------

  function isObj(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }
  function has(obj, key) { return isObj(obj) && Object.prototype.hasOwnProperty.call(obj, key); }
  function str(v) { return v === undefined || v === null ? "" : String(v); }
  function topName(path) { return path.split(/[.[]/)[0]; }
  function typeLabel(type) {
    for (var i = 0; i < TYPES.length; i++) if (TYPES[i][0] === type) return TYPES[i][1];
    return OTHER_LABEL;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === false || attrs[k] === undefined || attrs[k] === null) return;
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function setOrDelete(obj, key, value) {
    if (value === undefined || value === "" || value === null) delete obj[key];
    else obj[key] = value;
  }
  function numberOrDelete(obj, key, text, whole) {
    var raw = str(text).trim();
    if (raw === "") { delete obj[key]; return; }
    var n = Number(raw);
    if (!isFinite(n)) return; // keep the old value until the number is readable
    obj[key] = whole ? Math.round(n) : n;
  }

  // ---- definition → model --------------------------------------------------------------

  function choicesOf(schema) {
    if (!isObj(schema)) return null;
    if (Array.isArray(schema.enum)) {
      return schema.enum.every(function (v) { return typeof v === "string"; })
        ? schema.enum.map(function (v) { return { value: v, label: v }; }) : null;
    }
    if (Array.isArray(schema.oneOf) && schema.oneOf.length && schema.oneOf.every(function (o) {
      return isObj(o) && typeof o.const === "string";
    })) {
      return schema.oneOf.map(function (o) { return { value: o.const, label: o.title || o.const, coded: true }; });
    }
    return null;
  }

  function optionsText(schema) {
    var choices = choicesOf(schema) || [];
    return choices.map(function (c) { return c.coded ? c.value + "=" + c.label : c.value; }).join("\n");
  }

  function detectType(p, widget) {
    if (!isObj(p) || widget === "hidden") return "other";
    var items = isObj(p.items) ? p.items : null;
    if (p.type === "array") {
      if (!items || items.type === "object") return "other";
      if (items.format === "attachment") return widget === "image" ? "image" : "file";
      return choicesOf(items) ? "checkboxes" : "other";
    }
    if (p.enum !== undefined || p.oneOf !== undefined) {
      if (p.type === "string" && choicesOf(p)) return widget === "radio" ? "radio" : "select";
      return "other";
    }
    if (p.type === "boolean") return "boolean";
    if (p.type === "integer" || p.type === "number") return p.type;
    if (p.type === "string") {
      if (p.format === "date") return "date";
      if (p.format === "cn-mobile") return "mobile";
      if (p.format === "cn-id-card") return "idcard";
      if (p.format === undefined) return widget === "textarea" ? "textarea" : "text";
    }
    return "other";
  }

  // A condition block the editor can show: "if <field> is <value>, <targets> are required".
  function editorCondition(block) {
    if (!isObj(block) || !isObj(block["if"]) || !isObj(block.then)) return null;
    if (Object.keys(block).some(function (k) { return k !== "if" && k !== "then"; })) return null;
    var test = block["if"], then = block.then;
    if (Object.keys(test).some(function (k) { return k !== "properties" && k !== "required"; })) return null;
    if (!isObj(test.properties) || Object.keys(test.properties).length !== 1) return null;
    var field = Object.keys(test.properties)[0], rule = test.properties[field];
    if (!isObj(rule) || Object.keys(rule).length !== 1) return null;
    var value;
    if (has(rule, "const")) value = rule.const;
    else if (Array.isArray(rule.enum) && rule.enum.length === 1) value = rule.enum[0];
    else return null;
    if (test.required !== undefined && !(Array.isArray(test.required) &&
        test.required.length === 1 && test.required[0] === field)) return null;
    if (Object.keys(then).some(function (k) { return k !== "required" && k !== "properties"; })) return null;
    if (!Array.isArray(then.required) || !then.required.length) return null;
    if (then.properties !== undefined && (!isObj(then.properties) ||
        Object.keys(then.properties).some(function (n) { return then.required.indexOf(n) < 0; }))) return null;
    return { field: field, value: value, targets: then.required.slice(), thenProps: then.properties || {} };
  }

  function conditionBlocks(schema) {
    var blocks = [];
    if (has(schema, "if")) {
      var top = { "if": schema["if"] };
      if (has(schema, "then")) top.then = schema.then;
      if (has(schema, "else")) top["else"] = schema["else"];
      blocks.push({ where: "top", block: top, parsed: editorCondition(top) });
    }
    (Array.isArray(schema.allOf) ? schema.allOf : []).forEach(function (b, i) {
      blocks.push({ where: i, block: b, parsed: editorCondition(b) });
    });
    return blocks;
  }

  function readModel(def) {
    var schema = isObj(def.schema) ? def.schema : {};
    var props = isObj(schema.properties) ? schema.properties : {};
    var ui = isObj(def.ui) ? def.ui : {};
    var order = Array.isArray(ui.order) ? ui.order : [];
    var names = order.filter(function (n) { return has(props, n); });
    Object.keys(props).forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); });
    var required = Array.isArray(schema.required) ? schema.required : [];
    var widgets = isObj(ui.widgets) ? ui.widgets : {};
    var help = isObj(ui.help) ? ui.help : {};
    var placeholders = isObj(ui.placeholders) ? ui.placeholders : {};
    var personal = isObj(ui.personal) ? ui.personal : {};
    var sectionOf = {};
    (Array.isArray(ui.sections) ? ui.sections : []).forEach(function (s) {
      if (!isObj(s) || !Array.isArray(s.fields)) return;
      s.fields.forEach(function (n) { if (!has(sectionOf, n)) sectionOf[n] = str(s.title); });
    });
    var fields = names.map(function (name) {
      var p = isObj(props[name]) ? props[name] : {};
      var type = detectType(p, widgets[name]);
      var choiceSchema = type === "checkboxes" ? p.items : p;
      return {
        uid: nextUid++, name: name, origName: name, origType: type, isNew: false,
        title: str(p.title), type: type, required: required.indexOf(name) >= 0,
        options: CHOICE[type] ? optionsText(choiceSchema) : "",
        origOptions: CHOICE[type] ? optionsText(choiceSchema) : "",
        helpInUi: has(help, name), help: has(help, name) ? str(help[name]) : str(p.description),
        placeholder: str(placeholders[name]), maxLength: str(p.maxLength),
        min: str(p.minimum), max: str(p.maximum), maxItems: str(p.maxItems),
        section: sectionOf[name] || "", personal: str(personal[name]), cond: null, open: false
      };
    });
    var byName = {};
    fields.forEach(function (f) { byName[f.name] = f; });
    conditionBlocks(schema).forEach(function (b) {
      if (!b.parsed || !byName[b.parsed.field]) return;
      b.parsed.targets.forEach(function (t) {
        if (byName[t] && !byName[t].cond) byName[t].cond = { uid: byName[b.parsed.field].uid, value: b.parsed.value };
      });
    });
    var titleField = byName[def.title_field];
    var model = {
      base: def,
      meta: {
        key: str(def.key), title: str(def.title), description: str(def.description),
        access: def.access === "public" ? "public" : "staff", titleUid: titleField ? titleField.uid : null,
        caseType: def.opens_case === false ? INTAKE : str(def.case_type)
      },
      fields: fields
    };
    model.condSig = conditionSignature(model);
    return model;
  }

  function fieldByUid(uid) {
    for (var i = 0; i < state.fields.length; i++) if (state.fields[i].uid === uid) return state.fields[i];
    return null;
  }

  function conditionSignature(model) {
    var byUid = {};
    model.fields.forEach(function (f) { byUid[f.uid] = f; });
    return model.fields.filter(function (f) { return f.cond && byUid[f.cond.uid]; }).map(function (f) {
      return f.name + "|" + byUid[f.cond.uid].name + "|" + JSON.stringify(f.cond.value);
    }).sort().join("\n");
  }

  // ---- model → definition --------------------------------------------------------------

  function applyOptions(target, text) {
    var lines = str(text).split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
    var coded = lines.some(function (l) { return l.indexOf("=") > 0; });
    delete target.enum;
    delete target.oneOf;
    if (coded) {
      target.oneOf = lines.map(function (l) {
        var at = l.indexOf("=");
        if (at <= 0) return { "const": l, title: l };
        return { "const": l.slice(0, at).trim(), title: l.slice(at + 1).trim() || l.slice(0, at).trim() };
      });
    } else {
      target.enum = lines;
    }
  }

  function buildProp(f, orig) {
    var p;
    if (f.type === "other") {
      p = clone(orig || {});
      setOrDelete(p, "title", f.title);
      if (!f.helpInUi) setOrDelete(p, "description", f.help);
      return p;
    }
    var same = orig && FAMILY[f.origType] === FAMILY[f.type];
    p = same ? clone(orig) : {};
    if (!same) p.type = "string";
    setOrDelete(p, "title", f.title);
    switch (f.type) {
      case "text": case "textarea":
        p.type = "string";
        numberOrDelete(p, "maxLength", f.maxLength, true);
        break;
      case "mobile": p.type = "string"; p.format = "cn-mobile"; break;
      case "idcard": p.type = "string"; p.format = "cn-id-card"; break;
      case "date": p.type = "string"; p.format = "date"; break;
      case "boolean": p.type = "boolean"; break;
      case "integer": case "number":
        p.type = f.type;
        numberOrDelete(p, "minimum", f.min, false);
        numberOrDelete(p, "maximum", f.max, false);
        break;
      case "select": case "radio":
        p.type = "string";
        if (!same || f.options !== f.origOptions) applyOptions(p, f.options);
        break;
      case "checkboxes":
        p.type = "array";
        p.uniqueItems = true;
        if (!same || !isObj(p.items)) p.items = { type: "string" };
        if (!same || f.options !== f.origOptions) applyOptions(p.items, f.options);
        numberOrDelete(p, "maxItems", f.maxItems, true);
        break;
      case "image": case "file":
        p.type = "array";
        if (!same) p.items = { type: "string", format: "attachment" };
        numberOrDelete(p, "maxItems", f.maxItems, true);
        break;
    }
    if (!f.helpInUi) setOrDelete(p, "description", f.help);
    return p;
  }

  function widgetFor(f, old) {
    switch (f.type) {
      case "textarea": return "textarea";
      case "text": return old === "address" ? "address" : undefined; // the address picker stays
      case "radio": return "radio";
      case "image": return "image";
      case "select": return old === "select" ? "select" : undefined;
      case "checkboxes": return old === "checkboxes" ? "checkboxes" : undefined;
      case "file": return old === "file" ? "file" : undefined;
      case "other": return old;
      default: return undefined;
    }
  }

  function buildConditions(schema) {
    var blocks = conditionBlocks(schema);
    var groups = [], byKey = {};
    state.fields.forEach(function (f) {
      var trigger = f.cond && fieldByUid(f.cond.uid);
      if (!trigger) return;
      var key = trigger.name + "|" + JSON.stringify(f.cond.value);
      if (!byKey[key]) {
        byKey[key] = { field: trigger.name, value: f.cond.value, targets: [], thenProps: {} };
        groups.push(byKey[key]);
      }
      byKey[key].targets.push(f.name);
    });
    // Keep per-field extras (e.g. minLength) an unchanged condition already had.
    blocks.forEach(function (b) {
      if (!b.parsed) return;
      var g = byKey[b.parsed.field + "|" + JSON.stringify(b.parsed.value)];
      if (!g) return;
      Object.keys(b.parsed.thenProps).forEach(function (n) {
        if (g.targets.indexOf(n) >= 0) g.thenProps[n] = b.parsed.thenProps[n];
      });
    });
    var generated = groups.map(function (g) {
      var test = { properties: {}, required: [g.field] };
      test.properties[g.field] = { "const": g.value };
      var then = { required: g.targets };
      if (Object.keys(g.thenProps).length) then.properties = g.thenProps;
      return { "if": test, then: then };
    });
    var keepTop = blocks.filter(function (b) { return b.where === "top" && !b.parsed; })[0];
    var keepAll = blocks.filter(function (b) { return b.where !== "top" && !b.parsed; })
      .map(function (b) { return b.block; });
    ["if", "then", "else"].forEach(function (k) { if (!keepTop) delete schema[k]; });
    var all = keepAll.concat(generated);
    if (!keepTop && generated.length === 1 && !keepAll.length) {
      schema["if"] = generated[0]["if"];
      schema.then = generated[0].then;
      all = [];
    }
    if (all.length) schema.allOf = all; else delete schema.allOf;
  }

  function renamed(names, rename, present) {
    var out = [];
    names.forEach(function (n) {
      if (typeof n !== "string") return;
      var top = topName(n), now = rename[top];
      if (now === undefined || !present[now]) return;
      var name = now + n.slice(top.length);
      if (out.indexOf(name) < 0) out.push(name);
    });
    return out;
  }

  function build() {
    var base = state.base, meta = state.meta;
    var schema = isObj(base.schema) ? clone(base.schema) : { type: "object" };
    var ui = isObj(base.ui) ? clone(base.ui) : {};
    var oldProps = isObj(schema.properties) ? schema.properties : {};
    var rename = {}, present = {};
    state.fields.forEach(function (f) {
      present[f.name] = true;
      if (f.origName) rename[f.origName] = f.name;
    });

    var props = {};
    state.fields.forEach(function (f) {
      props[f.name] = buildProp(f, f.origName && isObj(oldProps[f.origName]) ? oldProps[f.origName] : null);
    });
    schema.properties = props;
    var required = state.fields.filter(function (f) { return f.required; }).map(function (f) { return f.name; });
    if (required.length) schema.required = required; else delete schema.required;
    if (isObj(schema.dependentRequired)) {
      var dependent = {};
      Object.keys(schema.dependentRequired).forEach(function (trigger) {
        var now = rename[trigger];
        var deps = renamed(schema.dependentRequired[trigger] || [], rename, present);
        if (now !== undefined && present[now] && deps.length) dependent[now] = deps;
      });
      if (Object.keys(dependent).length) schema.dependentRequired = dependent; else delete schema.dependentRequired;
    }
    var renamedAny = state.fields.some(function (f) { return f.origName && f.origName !== f.name; });
    var removedAny = Object.keys(oldProps).some(function (n) { return rename[n] === undefined; });
    if (conditionSignature(state) !== state.condSig || renamedAny || removedAny) buildConditions(schema);

    ui.order = state.fields.map(function (f) { return f.name; });
    var oldSections = Array.isArray(ui.sections) ? ui.sections : [];
    if (state.fields.some(function (f) { return f.section.trim(); })) {
      var sections = [], byTitle = {};
      state.fields.forEach(function (f) {
        var title = f.section.trim();
        if (!title) return;
        if (!byTitle[title]) {
          var old = oldSections.filter(function (s) { return isObj(s) && s.title === title; })[0];
          byTitle[title] = old ? clone(old) : { title: title };
          byTitle[title].fields = [];
          sections.push(byTitle[title]);
        }
        byTitle[title].fields.push(f.name);
      });
      ui.sections = sections;
    } else {
      delete ui.sections;
    }
    UI_MAPS.forEach(function (key) {
      var old = isObj(ui[key]) ? ui[key] : {}, out = {};
      var value = function (f) {
        if (key === "widgets") return widgetFor(f, f.origName ? old[f.origName] : undefined);
        if (key === "help") return f.helpInUi ? f.help : undefined;
        return f.placeholder; // kept even while hidden for a type without a text box
      };
      var written = {};
      Object.keys(old).forEach(function (k) {
        var top = topName(k), now = rename[top];
        if (now === undefined || !present[now]) return;
        if (k === top) {
          var f = state.fields.filter(function (x) { return x.name === now; })[0];
          var v = value(f);
          if (v) out[now] = v;
          written[now] = true;
        } else {
          out[now + k.slice(top.length)] = old[k];
        }
      });
      state.fields.forEach(function (f) {
        if (written[f.name]) return;
        var v = value(f);
        if (v) out[f.name] = v;
      });
      if (Object.keys(out).length) ui[key] = out; else delete ui[key];
    });
    if (isObj(ui.personal)) { // personal-data marks follow renamed fields, vanish with removed ones
      var marks = {};
      Object.keys(ui.personal).forEach(function (k) {
        var top = topName(k), now = rename[top];
        if (now !== undefined && present[now]) marks[now + k.slice(top.length)] = ui.personal[k];
      });
      if (Object.keys(marks).length) ui.personal = marks; else delete ui.personal;
    }
    if (isObj(ui.relevant)) { // ui.relevant (a form designed in Excel) follows renamed fields, and
      // gives way to a condition set here (the page would otherwise show by the old one)
      var relevant = {}, condChanged = conditionSignature(state) !== state.condSig;
      var renameRefs = function (tree) {
        if (!isObj(tree)) return tree;
        var out = clone(tree);
        if (typeof out.field === "string" && rename[out.field] !== undefined) out.field = rename[out.field];
        ["and", "or"].forEach(function (k) { if (Array.isArray(out[k])) out[k] = out[k].map(renameRefs); });
        if (has(out, "not")) out.not = renameRefs(out.not);
        return out;
      };
      Object.keys(ui.relevant).forEach(function (k) {
        var top = topName(k), now = rename[top];
        if (now === undefined || !present[now]) return;
        var f = state.fields.filter(function (x) { return x.name === now; })[0];
        if (k === top && condChanged && f && f.cond) return;
        relevant[now + k.slice(top.length)] = k === top ? renameRefs(ui.relevant[k]) : ui.relevant[k];
      });
      if (Object.keys(relevant).length) ui.relevant = relevant; else delete ui.relevant;
    }
    var personalMarks = isObj(ui.personal) ? ui.personal : {};
    state.fields.forEach(function (f) { // the field editor's choice, for whole top-level fields
      if (NO_PERSONAL_CHOICE[f.type]) return;
      if (f.personal) personalMarks[f.name] = f.personal; else delete personalMarks[f.name];
    });
    if (Object.keys(personalMarks).length) ui.personal = personalMarks; else delete ui.personal;
    var trim = renamed(Array.isArray(ui.trim) ? ui.trim : [], rename, present);
    state.fields.forEach(function (f) {
      if (f.isNew && TEXTUAL[f.type] && trim.indexOf(f.name) < 0) trim.push(f.name);
    });
    if (trim.length) ui.trim = trim; else delete ui.trim;

    // Top-level keys in the order of form_definitions/README.md (as the server saves them).
    var def = { key: meta.key, title: meta.title };
    if (meta.description) def.description = meta.description;
    def.access = meta.access;
    if (meta.caseType && meta.caseType !== INTAKE) def.case_type = meta.caseType;
    var titleField = meta.titleUid ? fieldByUid(meta.titleUid) : null;
    if (titleField) def.title_field = titleField.name;
    if (has(base, "accepting_unit")) def.accepting_unit = base.accepting_unit;
    if (meta.caseType === INTAKE) def.opens_case = false;
    def.schema = schema;
    def.ui = ui;
    var own = { description: 1, title_field: 1, case_type: 1, opens_case: 1 };
    Object.keys(base).forEach(function (k) { if (!has(def, k) && !own[k]) def[k] = base[k]; });
    return def;
  }

  // After writing the JSON, the model's "original" view is what was just written.
  function rebase(def) {
    state.base = def;
    var help = isObj(def.ui) && isObj(def.ui.help) ? def.ui.help : {};
    state.fields.forEach(function (f) {
      f.origName = f.name;
      f.origType = f.type;
      f.origOptions = f.options;
      f.helpInUi = has(help, f.name) || f.isNew;
    });
    state.condSig = conditionSignature(state);
  }

  // ---- rendering the editor ------------------------------------------------------------

  function inputId(f, prop) { return "df-" + f.uid + "-" + prop; }

  function labelled(f, prop, label, control, hint) {
    return el("div", { "class": "designer-input designer-input-" + prop }, [
      el("label", { "for": inputId(f, prop), text: label }), control,
      hint ? el("div", { "class": "help", text: hint }) : null
    ]);
  }

  function textInput(f, prop, attrs) {
    var a = { type: "text", id: inputId(f, prop), "data-prop": prop, value: f[prop] };
    Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
    var input = el("input", a);
    input.value = f[prop];
    return input;
  }

  function nameInput(f) {
    var input = textInput(f, "name", { spellcheck: "false", autocapitalize: "off", placeholder: "如：name",
      "aria-describedby": inputId(f, "name") + "-help", "aria-invalid": f.typedName ? "true" : "false" });
    if (f.typedName) input.value = f.typedName;
    return input;
  }

  function triggerOptions(f) {
    var select = el("select", { id: inputId(f, "condField"), "data-prop": "condField" },
      [el("option", { value: "", text: "（总是显示）" })]);
    state.fields.forEach(function (other) {
      if (other === f || !TRIGGER_TYPES[other.type]) return;
      var option = el("option", { value: String(other.uid), "data-field-uid": String(other.uid), text: fieldLabel(other) });
      if (f.cond && f.cond.uid === other.uid) option.selected = true;
      select.appendChild(option);
    });
    return select;
  }

  function triggerValues(trigger) {
    if (trigger.type === "boolean") return [{ value: true, label: "是（勾选）" }, { value: false, label: "否（未勾选）" }];
    if (trigger.type === "select" || trigger.type === "radio") {
      var probe = {};
      applyOptions(probe, trigger.options);
      return (probe.enum || []).map(function (v) { return { value: v, label: v }; }).concat(
        (probe.oneOf || []).map(function (o) { return { value: o.const, label: o.title }; }));
    }
    return null;
  }

  function conditionControls(f) {
    var trigger = f.cond ? fieldByUid(f.cond.uid) : null;
    var valueControl;
    var choices = trigger ? triggerValues(trigger) : null;
    if (!trigger) {
      valueControl = el("input", { type: "text", id: inputId(f, "condValue"), "data-prop": "condValue", disabled: true, placeholder: "先选择字段" });
    } else if (choices) {
      valueControl = el("select", { id: inputId(f, "condValue"), "data-prop": "condValue" });
      var matched = false;
      choices.forEach(function (c) {
        var option = el("option", { value: JSON.stringify(c.value), text: c.label });
        if (JSON.stringify(c.value) === JSON.stringify(f.cond.value)) { option.selected = true; matched = true; }
        valueControl.appendChild(option);
      });
      if (!matched && f.cond.value !== undefined) {
        valueControl.insertBefore(el("option", { value: JSON.stringify(f.cond.value), text: str(f.cond.value) + "（已不在选项中）", selected: true }), valueControl.firstChild);
      }
    } else {
      valueControl = el("input", { type: "text", id: inputId(f, "condValue"), "data-prop": "condValue" });
      valueControl.value = str(f.cond.value);
    }
    return el("div", { "class": "designer-input designer-cond" }, [
      el("span", { "class": "designer-cond-label", text: "显示条件" }),
      el("div", { "class": "designer-cond-row" }, [
        el("label", { "for": inputId(f, "condField"), text: "仅当" }), triggerOptions(f),
        el("label", { "for": inputId(f, "condValue"), text: "为" }), valueControl,
        el("span", { text: "时显示并必填" })
      ])
    ]);
  }

  function fieldLabel(f) { return (f.title || "（未命名）") + " · " + f.name; }

  function fieldMeta(f) {
    var personal = f.personal && !NO_PERSONAL_CHOICE[f.type];
    return typeLabel(f.type) + (f.required ? " · 必填" : "") + (f.cond ? " · 条件显示" : "") +
      (personal ? " · 个人信息" : "");
  }

  function limitControls(f) {
    if (f.type === "text" || f.type === "textarea") {
      return [labelled(f, "maxLength", "最多字数", textInput(f, "maxLength", { type: "number", min: "1", step: "1", inputmode: "numeric" }))];
    }
    if (f.type === "integer" || f.type === "number") {
      var step = f.type === "integer" ? "1" : "any";
      return [
        labelled(f, "min", "最小值", textInput(f, "min", { type: "number", step: step })),
        labelled(f, "max", "最大值", textInput(f, "max", { type: "number", step: step }))
      ];
    }
    if (f.type === "checkboxes" || f.type === "image" || f.type === "file") {
      var label = f.type === "checkboxes" ? "最多选几项" : "最多上传几个";
      return [labelled(f, "maxItems", label, textInput(f, "maxItems", { type: "number", min: "1", step: "1", inputmode: "numeric" }))];
    }
    return [];
  }

  function fieldCard(f, index) {
    var typeSelect = el("select", { id: inputId(f, "type"), "data-prop": "type" });
    TYPES.concat(f.type === "other" || f.origType === "other" ? [["other", OTHER_LABEL]] : []).forEach(function (t) {
      var option = el("option", { value: t[0], text: t[1] });
      if (t[0] === f.type) option.selected = true;
      typeSelect.appendChild(option);
    });
    var required = el("input", { type: "checkbox", id: inputId(f, "required"), "data-prop": "required" });
    required.checked = f.required;
    var body = [
      el("div", { "class": "designer-row" }, [
        labelled(f, "title", "字段名称", textInput(f, "title", { placeholder: "如：姓名" })),
        el("div", { "class": "designer-input designer-input-name" }, [
          el("label", { "for": inputId(f, "name"), text: "字段标识" }),
          nameInput(f),
          el("div", { "class": "error", "data-name-error": true, role: "alert", hidden: !f.typedName, text: f.typedName ? nameProblem(f, f.typedName.trim()) : "" }),
          el("div", { "class": "help", id: inputId(f, "name") + "-help", text: "英文字母、数字或下划线；发布后不要再改" })
        ])
      ]),
      el("div", { "class": "designer-row" }, [
        labelled(f, "type", "类型", typeSelect),
        el("div", { "class": "designer-input designer-required" }, [
          el("label", { "class": "check", "for": inputId(f, "required") }, [required, el("span", { text: "必填" })])
        ])
      ])
    ];
    if (f.type === "other") {
      body.push(el("p", { "class": "help", text: "此字段的结构较复杂（如分组、重复项或特殊格式），请在 JSON 定义中修改；这里可修改名称、必填、帮助文字和分组。" }));
    }
    if (CHOICE[f.type]) {
      var options = el("textarea", { id: inputId(f, "options"), "data-prop": "options", rows: "4", spellcheck: "false" });
      options.value = f.options;
      body.push(labelled(f, "options", "选项（每行一个）", options, "需要代码与显示名不同时，写作：代码=显示名"));
    }
    var limits = limitControls(f);
    if (limits.length) body.push(el("div", { "class": "designer-row" }, limits));
    body.push(labelled(f, "help", "帮助文字", textInput(f, "help", { placeholder: "显示在输入框下方的说明" })));
    var texty = TEXTUAL[f.type] || f.type === "integer" || f.type === "number";
    body.push(el("div", { "class": "designer-row" }, [
      texty ? labelled(f, "placeholder", "占位提示", textInput(f, "placeholder")) : null,
      labelled(f, "section", "分组", textInput(f, "section", { list: "designer-sections", placeholder: "如：联系方式" }))
    ]));
    if (NO_PERSONAL_CHOICE[f.type]) {
      if (f.type === "mobile" || f.type === "idcard") {
        body.push(el("p", { "class": "help", text: "手机号和身份证号始终作为个人信息打码显示。" }));
      }
    } else {
      var personal = el("select", { id: inputId(f, "personal"), "data-prop": "personal" });
      var kinds = PERSONAL_KINDS.some(function (k) { return k[0] === f.personal; })
        ? PERSONAL_KINDS : PERSONAL_KINDS.concat([[f.personal, "是：" + f.personal]]); // a kind typed in the JSON
      kinds.forEach(function (k) {
        personal.appendChild(el("option", { value: k[0], text: k[1], selected: k[0] === f.personal }));
      });
      body.push(labelled(f, "personal", "个人信息", personal,
        "列表、导出、通知中按所选方式打码；查看完整内容须填写理由并记入审计日志"));
    }
    body.push(conditionControls(f));

    var summary = el("summary", { "class": "designer-field-head" }, [
      el("span", { "class": "designer-field-no", text: String(index + 1) }),
      el("span", { "class": "designer-field-name" }, [
        el("strong", { "class": "designer-field-title", text: f.title || "（未命名）" }),
        el("span", { "class": "designer-field-meta", text: fieldMeta(f) })
      ])
    ]);
    // The move/remove buttons sit beside the summary, not in it (a button inside a summary is
    // a control inside a control for screen readers and keyboards); CSS lays them over its row.
    var tools = el("span", { "class": "designer-field-tools" }, [
      el("button", { type: "button", "class": "btn btn-small btn-secondary", "data-action": "up", title: "上移", "aria-label": "上移「" + (f.title || f.name) + "」", disabled: index === 0 }, ["↑"]),
      el("button", { type: "button", "class": "btn btn-small btn-secondary", "data-action": "down", title: "下移", "aria-label": "下移「" + (f.title || f.name) + "」", disabled: index === state.fields.length - 1 }, ["↓"]),
      el("button", { type: "button", "class": "btn btn-small btn-secondary designer-danger", "data-action": "remove", title: "删除", "aria-label": "删除「" + (f.title || f.name) + "」" }, ["删除"])
    ]);
    var card = el("details", { "class": "designer-field", "data-uid": String(f.uid), open: f.open }, [
      summary, el("div", { "class": "designer-field-body" }, body)
    ]);
    card.addEventListener("toggle", function () { f.open = card.open; });
    // "toggle" fires asynchronously: a re-render triggered right after opening a card (e.g.
    // choosing a condition) must not close it again, so record the intent on click too.
    summary.addEventListener("click", function (event) {
      if (!event.target.closest("button")) f.open = !card.open;
    });
    return el("div", { "class": "designer-field-card", "data-uid": String(f.uid) }, [card, tools]);
  }

  function metaCard() {
    var m = state.meta;
    var f = { uid: "form" };
    var key = el("input", { type: "text", id: "df-form-key", "data-meta": "key", spellcheck: "false", autocapitalize: "off", placeholder: "如：pet-registration", readonly: existingKey ? true : false });
    key.value = m.key;
    var title = el("input", { type: "text", id: "df-form-title", "data-meta": "title", placeholder: "如：犬只登记" });
    title.value = m.title;
    var description = el("textarea", { id: "df-form-description", "data-meta": "description", rows: "2" });
    description.value = m.description;
    var access = el("select", { id: "df-form-access", "data-meta": "access" }, [
      el("option", { value: "public", text: "公开（无需登录）", selected: m.access === "public" }),
      el("option", { value: "staff", text: "工作人员（需登录）", selected: m.access === "staff" })
    ]);
    var titleField = el("select", { id: "df-form-titleUid", "data-meta": "titleUid" }, [el("option", { value: "", text: "（使用表单名称）" })]);
    state.fields.forEach(function (x) {
      if (x.type !== "text" && x.type !== "textarea") return;
      titleField.appendChild(el("option", { value: String(x.uid), "data-field-uid": String(x.uid), text: fieldLabel(x), selected: m.titleUid === x.uid }));
    });
    var caseType = el("select", { id: "df-form-caseType", "data-meta": "caseType" });
    var listed = CASE_TYPES.some(function (c) { return c.value === m.caseType; });
    if (!listed) { // keep what the JSON says; the server refuses it on save with the reason
      caseType.appendChild(el("option", { value: m.caseType, text: m.caseType + "（不可用）", selected: true }));
    }
    CASE_TYPES.forEach(function (c) {
      var text = c.value && c.value !== INTAKE ? c.label + "（" + c.value + "）" : c.label;
      caseType.appendChild(el("option", { value: c.value, text: text, selected: c.value === m.caseType }));
    });
    return el("div", { "class": "designer-meta" }, [
      el("div", { "class": "designer-row" }, [
        labelled(f, "title", "表单名称", title),
        labelled(f, "key", "表单标识", key, existingKey ? "已创建的表单不能修改标识" : "小写字母开头，可含数字和连字符，用在网址中")
      ]),
      labelled(f, "description", "表单说明", description),
      el("div", { "class": "designer-row" }, [
        labelled(f, "access", "谁可以填写", access),
        labelled(f, "titleUid", "事项标题取自", titleField)
      ]),
      labelled(f, "caseType", "事项类型（办理流程）", caseType,
        "提交后按所选事项类型的流程和时限办理；改选后，新提交的事项进入新的流程，已有事项不变")
    ]);
  }

  function render() {
    var focused = document.activeElement;
    var focusId = focused && editor.contains(focused) ? focused.id || focused.getAttribute("data-focus") : null;
    editor.textContent = "";
    editor.appendChild(metaCard());
    var sections = {};
    state.fields.forEach(function (f) { if (f.section.trim()) sections[f.section.trim()] = true; });
    editor.appendChild(el("datalist", { id: "designer-sections" },
      Object.keys(sections).map(function (s) { return el("option", { value: s }); })));
    var list = el("div", { "class": "designer-fields" });
    state.fields.forEach(function (f, i) { list.appendChild(fieldCard(f, i)); });
    editor.appendChild(el("h3", { "class": "designer-fields-title", text: "字段（" + state.fields.length + "）" }));
    if (!state.fields.length) list.appendChild(el("p", { "class": "muted", text: "还没有字段，点击下方「添加字段」开始。" }));
    editor.appendChild(list);
    editor.appendChild(el("button", { type: "button", "class": "btn btn-secondary designer-add", "data-action": "add", "data-focus": "add" }, ["＋ 添加字段"]));
    if (focusId) {
      var again = document.getElementById(focusId) || editor.querySelector('[data-focus="' + focusId + '"]');
      if (again) again.focus();
    }
  }

  // ---- keeping the JSON and the editor in step -----------------------------------------

  function writeJson() {
    var def = build();
    textarea.value = JSON.stringify(def, null, 2);
    rebase(def);
    jsonStatus.textContent = jsonHelp;
    jsonStatus.classList.remove("error");
    changed();
  }

  function readJson() {
    var def;
    try {
      def = JSON.parse(textarea.value);
    } catch (err) {
      jsonStatus.textContent = "JSON 格式有误，字段编辑器暂停同步（" + err.message + "）";
      jsonStatus.classList.add("error");
      return false;
    }
    if (!isObj(def)) {
      jsonStatus.textContent = "JSON 定义应为一个对象 { … }，字段编辑器暂停同步";
      jsonStatus.classList.add("error");
      return false;
    }
    var open = {};
    if (state) state.fields.forEach(function (f) { if (f.open) open[f.name] = true; });
    state = readModel(def);
    state.fields.forEach(function (f) { f.open = !!open[f.name]; });
    jsonStatus.textContent = jsonHelp;
    jsonStatus.classList.remove("error");
    render();
    return true;
  }

  function showDirty() {
    var dirty = textarea.value !== savedText;
    if (dirtyNote) dirtyNote.hidden = !dirty;
    if (publishButton) publishButton.disabled = dirty;
    if (publishHint) publishHint.hidden = !dirty;
  }

  function changed() {
    showDirty();
    schedulePreview();
  }

  var previewTimer = null, previewSeq = 0;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 400);
  }

  function refreshPreview() {
    var seq = ++previewSeq;
    previewStatus.textContent = "更新中…";
    var body = new URLSearchParams();
    body.append("definition", textarea.value);
    fetch(root.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": root.getAttribute("data-csrf-token"), "Accept": "text/html" },
      body: body
    }).then(function (response) {
      if (response.status !== 200 && response.status !== 422) throw new Error(String(response.status));
      return response.text();
    }).then(function (html) {
      if (seq !== previewSeq) return;
      preview.innerHTML = html;
      previewStatus.textContent = "";
    }).catch(function () {
      if (seq !== previewSeq) return;
      previewStatus.textContent = "预览暂不可用（可能登录已过期，请刷新页面）";
    });
  }

  function uniqueName() {
    var n = state.fields.length + 1;
    var taken = {};
    state.fields.forEach(function (f) { taken[f.name] = true; });
    while (taken["field" + n]) n++;
    return "field" + n;
  }

  function refreshLabels(f) {
    var card = editor.querySelector('.designer-field[data-uid="' + f.uid + '"]');
    if (card) {
      card.querySelector(".designer-field-title").textContent = f.title || "（未命名）";
      card.querySelector(".designer-field-meta").textContent = fieldMeta(f);
    }
    editor.querySelectorAll('option[data-field-uid="' + f.uid + '"]').forEach(function (o) {
      o.textContent = fieldLabel(f);
    });
  }

  var NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;
  // Names WTForms uses for its own attributes: a field called so would break the form.
  var RESERVED = ["data", "errors", "meta", "validate", "process", "post_process", "populate_obj",
    "csrf_token", "fq_version", "form_errors", "hidden_tag", "is_submitted", "validate_on_submit", "Meta"];

  function nameProblem(f, name) {
    if (!name) return "请填写字段标识";
    if (!NAME_PATTERN.test(name)) return "只能包含英文字母、数字和下划线，且须以字母开头";
    if (RESERVED.indexOf(name) >= 0) return name + " 是系统保留的名称，请换一个";
    for (var i = 0; i < state.fields.length; i++) {
      if (state.fields[i] !== f && state.fields[i].name === name) return "与「" + (state.fields[i].title || name) + "」的标识重复";
    }
    return "";
  }

  function onInput(event) {
    var target = event.target;
    var picked = target.tagName === "SELECT" || target.type === "checkbox";
    if (picked !== (event.type === "change")) return; // selects and boxes on "change", text on "input"
    var metaProp = target.getAttribute("data-meta");
    if (metaProp) {
      state.meta[metaProp] = metaProp === "titleUid" ? (target.value ? Number(target.value) : null) : target.value;
      writeJson();
      return;
    }
    var prop = target.getAttribute("data-prop");
    var card = target.closest(".designer-field");
    if (!prop || !card) return;
    var f = fieldByUid(Number(card.getAttribute("data-uid")));
    if (!f) return;
    var structural = false;
    if (prop === "name") {
      var problem = nameProblem(f, target.value.trim());
      var note = card.querySelector("[data-name-error]");
      target.setAttribute("aria-invalid", problem ? "true" : "false");
      note.textContent = problem;
      note.hidden = !problem;
      // Keep the last good name in the JSON until this one is usable; show what was typed.
      f.typedName = problem ? target.value : null;
      if (problem) return;
      f.name = target.value.trim();
    } else if (prop === "required") {
      f.required = target.checked;
    } else if (prop === "condField") {
      if (!target.value) f.cond = null;
      else {
        var trigger = fieldByUid(Number(target.value));
        var values = triggerValues(trigger);
        f.cond = { uid: trigger.uid, value: values && values.length ? values[0].value : "" };
      }
      structural = true;
    } else if (prop === "condValue") {
      var trig = f.cond && fieldByUid(f.cond.uid);
      if (!trig) return;
      if (target.tagName === "SELECT") f.cond.value = JSON.parse(target.value);
      else if ((trig.type === "integer" || trig.type === "number") && target.value.trim() !== "" && isFinite(Number(target.value))) f.cond.value = Number(target.value);
      else f.cond.value = target.value;
    } else if (prop === "type") {
      f.type = target.value;
      if (CHOICE[f.type] && !f.options.trim()) f.options = "选项一\n选项二";
      structural = true;
    } else {
      f[prop] = target.value;
    }
    writeJson();
    if (structural) render(); else refreshLabels(f);
  }

  function onClick(event) {
    var button = event.target.closest("[data-action]");
    if (!button || !editor.contains(button)) return;
    event.preventDefault();
    var action = button.getAttribute("data-action");
    if (action === "add") {
      var f = {
        uid: nextUid++, name: uniqueName(), origName: null, origType: null, isNew: true,
        title: "", type: "text", required: false, options: "", origOptions: "", helpInUi: true,
        help: "", placeholder: "", maxLength: "", min: "", max: "", maxItems: "", section: "",
        personal: "", cond: null, open: true
      };
      state.fields.forEach(function (other) { other.open = false; }); // one card open at a time
      state.fields.push(f);
      writeJson();
      render();
      var title = document.getElementById(inputId(f, "title"));
      if (title) { title.focus(); title.scrollIntoView({ block: "center" }); }
      return;
    }
    var card = button.closest(".designer-field-card");
    var index = state.fields.indexOf(fieldByUid(Number(card.getAttribute("data-uid"))));
    if (index < 0) return;
    var field = state.fields[index];
    if (action === "remove") {
      if (!window.confirm("删除字段「" + (field.title || field.name) + "」？已发布版本中的数据不受影响，但发布后新版本将不再包含它。")) return;
      state.fields.splice(index, 1);
      state.fields.forEach(function (other) { if (other.cond && other.cond.uid === field.uid) other.cond = null; });
      if (state.meta.titleUid === field.uid) state.meta.titleUid = null;
    } else if (action === "up" && index > 0) {
      state.fields.splice(index - 1, 0, state.fields.splice(index, 1)[0]);
    } else if (action === "down" && index < state.fields.length - 1) {
      state.fields.splice(index + 1, 0, state.fields.splice(index, 1)[0]);
    } else {
      return;
    }
    writeJson();
    render();
    var moved = editor.querySelector('.designer-field-card[data-uid="' + field.uid + '"] [data-action="' + action + '"]');
    if (moved && !moved.disabled) moved.focus();
  }

  var jsonTimer = null;
  textarea.addEventListener("input", function () {
    clearTimeout(jsonTimer);
    jsonTimer = setTimeout(function () {
      readJson();
      changed();
    }, 400);
    showDirty();
  });
  editor.addEventListener("input", onInput);
  editor.addEventListener("change", onInput);
  editor.addEventListener("click", onClick);
  root.querySelector("[data-designer-form]").addEventListener("submit", function () {
    clearTimeout(jsonTimer);
  });

  root.querySelectorAll(".designer-nojs").forEach(function (n) { n.hidden = true; });
  editor.hidden = false;
  root.classList.add("designer-js");
  if (!readJson()) {
    editor.appendChild(el("p", { "class": "muted", text: "JSON 定义目前无法解析，请先修正后再使用字段编辑器。" }));
  }
  showDirty(); // the server already rendered the preview of this text
  var refused = document.querySelector("[data-designer-refused]"); // publishing was refused: show why
  if (refused) refused.scrollIntoView({ block: "center" });
})();
