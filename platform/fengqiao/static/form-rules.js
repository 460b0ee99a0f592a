// The server's form checks in the browser (fengqiao.forms.normalise, fengqiao.validation and
// fengqiao.forms.formats): the same JSON Schema keywords the form definitions use, the same
// Chinese message per field and the same JSON pointers, so a form filled without a network
// is checked before it waits in 待上传. The server stays final: what it refuses later comes
// back as a 422 with its own messages. Kept in step by tests/forms/test_offline_rules.py,
// which runs this file and the server over valid and invalid instances of every form.
//
// Why not a JSON-Schema library: the ones that are fast (ajv) compile schemas into
// JavaScript with new Function(), which the CSP forbids (script-src 'self', no
// 'unsafe-eval'); the subset the forms use is small, and its messages must be ours anyway.
(function (root) {
  "use strict";

  var TYPE_NAMES = { string: "文本", integer: "整数", number: "数字", boolean: "是/否", object: "对象", array: "列表", "null": "空值" };
  var FORMAT_MESSAGES = {
    email: "请输入有效的电子邮箱地址", date: "请输入有效的日期（如 2026-01-31）", "date-time": "请输入有效的日期时间",
    time: "请输入有效的时间", uri: "请输入有效的网址", "cn-id-card": "身份证号码格式不正确", "cn-mobile": "请输入 11 位手机号码",
    "cn-uscc": "统一社会信用代码不正确", "cn-postcode": "邮政编码应为 6 位数字", attachment: "附件无效，请重新上传",
  };
  var ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var ID_CHECK = "10X98765432";
  var USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  var AUTHORED = ["pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
    "maxLength", "minItems", "maxItems", "pattern", "const", "not", "anyOf", "allOf"];

  function isObject(v) { return v !== null && typeof v === "object" && !Array.isArray(v); }
  function length(s) { return Array.from(s).length; } // code points, as Python's len()

  // ---- normalise (fengqiao.forms.normalise) ----
  function isEmpty(v) {
    return v === "" || v === null || v === undefined || (Array.isArray(v) && !v.length) || (isObject(v) && !Object.keys(v).length);
  }
  function normalise(value, schema, trim, path) {
    schema = isObject(schema) ? schema : {};
    path = path || "";
    if (typeof value === "string") {
      value = value.normalize("NFC");
      if (trim.indexOf(path) >= 0) value = value.trim();
      if (schema.format === "cn-id-card") value = value.trim().toUpperCase();
      return value;
    }
    if (isObject(value)) {
      var props = isObject(schema.properties) ? schema.properties : {}, out = {};
      Object.keys(value).forEach(function (key) {
        var child = normalise(value[key], props[key] || {}, trim, path ? path + "." + key : key);
        if (!isEmpty(child)) out[key] = child;
      });
      return out;
    }
    if (Array.isArray(value)) {
      var items = isObject(schema.items) ? schema.items : {};
      var cleaned = value.map(function (v) { return normalise(v, items, trim, path + "[]"); });
      if (items.type === "object") return cleaned;
      return cleaned.filter(function (v) { return !isEmpty(v); });
    }
    return value;
  }

  // ---- formats (fengqiao.forms.formats; jsonschema's date, date-time, time, email) ----
  function birthDate(v) {
    var y = +v.slice(6, 10), m = +v.slice(10, 12), d = +v.slice(12, 14);
    var born = new Date(Date.UTC(y, m - 1, d));
    if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d) return null;
    var now = new Date(Date.now() + 8 * 3600 * 1000); // today in China
    var today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    return y >= 1900 && born.getTime() <= today ? born : null;
  }
  function idCardProblem(v) {
    if (typeof v !== "string") return null;
    if (!/^[0-9]{17}[0-9X]$/.test(v)) return "身份证号码应为 18 位";
    if (!birthDate(v)) return "身份证号码中的出生日期无效";
    var total = 0;
    for (var i = 0; i < 17; i++) total += (+v[i]) * ID_WEIGHTS[i];
    return ID_CHECK[total % 11] !== v[17] ? "身份证号码校验位不正确" : null;
  }
  function usccProblem(v) {
    if (typeof v !== "string") return null;
    if (!new RegExp("^[" + USCC_CHARSET + "]{18}$").test(v)) return "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）";
    var total = 0;
    for (var i = 0; i < 17; i++) total += USCC_CHARSET.indexOf(v[i]) * USCC_WEIGHTS[i];
    return USCC_CHARSET[(31 - total % 31) % 31] !== v[17] ? "统一社会信用代码校验位不正确" : null;
  }
  function realDate(y, m, d) {
    var t = new Date(Date.UTC(y, m - 1, d));
    return y > 0 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
  }
  var RFC3339 = /^(\d{4})-(0[1-9]|1[0-2])-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
  function isDateTime(v) {
    var m = RFC3339.exec(v.toUpperCase());
    return !!m && realDate(+m[1], +m[2], +m[3]);
  }
  var CHECKS = {
    "cn-id-card": function (v) { return idCardProblem(v) === null; },
    "cn-mobile": function (v) { return /^1[3-9][0-9]{9}$/.test(v); },
    "cn-uscc": function (v) { return usccProblem(v) === null; },
    "cn-postcode": function (v) { return /^[0-9]{6}$/.test(v); },
    attachment: function (v) { return /^att_[A-Za-z0-9_-]{16,64}$/.test(v); },
    date: function (v) { var m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(v); return !!m && realDate(+m[1], +m[2], +m[3]); },
    "date-time": isDateTime,
    time: function (v) { return isDateTime("1970-01-01T" + v); },
    email: function (v) { return v.indexOf("@") >= 0; },
  };
  function formatMessage(name, v) {
    var detail = name === "cn-id-card" ? idCardProblem(v) : null;
    return detail || FORMAT_MESSAGES[name] || "格式不正确";
  }

  // ---- validation (fengqiao.validation.problems) ----
  function typeOk(t, v) {
    switch (t) {
      case "string": return typeof v === "string";
      case "integer": return typeof v === "number" && Number.isInteger(v);
      case "number": return typeof v === "number";
      case "boolean": return typeof v === "boolean";
      case "object": return isObject(v);
      case "array": return Array.isArray(v);
      case "null": return v === null;
      default: return true;
    }
  }
  function equal(a, b) {
    if (a === b) return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    var ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every(function (k) { return equal(a[k], b[k]); });
  }
  function isChoiceList(options) {
    return Array.isArray(options) && options.every(function (o) { return isObject(o) && "const" in o; });
  }
  function pointerOf(path) {
    return path.map(function (p) { return "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1"); }).join("");
  }
  function num(v) { return String(v); }

  // Errors of ``instance`` against ``schema`` at ``path``: [{path, problems: [[pointer, message, code]]}].
  function errorsOf(schema, instance, path) {
    var out = [];
    if (schema === false) return [{ path: path, problems: [[pointerOf(path), "填写内容不符合要求", "false"]] }];
    if (!isObject(schema)) return out;
    function add(keyword, message) {
      var authored = typeof schema.errorMessage === "string" && schema.errorMessage && AUTHORED.indexOf(keyword) >= 0;
      out.push({ path: path, problems: [[pointerOf(path), authored ? schema.errorMessage : message, keyword]] });
    }
    // The server validates the schema's canonical JSON (keys sorted, fengqiao.validation
    // .validator_for): keywords and properties are checked in sorted order there, so here too.
    Object.keys(schema).sort().forEach(function (kw) {
      var v = schema[kw];
      switch (kw) {
        case "type":
          var names = Array.isArray(v) ? v : [v];
          if (!names.some(function (t) { return typeOk(t, instance); })) {
            add("type", "应填写" + names.map(function (n) { return TYPE_NAMES[n] || n; }).join("或"));
          }
          break;
        case "properties":
          if (isObject(instance)) {
            Object.keys(v).sort().forEach(function (name) {
              if (name in instance) out = out.concat(errorsOf(v[name], instance[name], path.concat([name])));
            });
          }
          break;
        case "required":
          if (isObject(instance)) {
            var missing = v.filter(function (name) { return !(name in instance); });
            if (missing.length) {
              out.push({ path: path, problems: missing.map(function (m) { return [pointerOf(path.concat([m])), "此项为必填项", "required"]; }) });
            }
          }
          break;
        case "dependentRequired":
          if (isObject(instance)) {
            var deps = [];
            Object.keys(v).sort().forEach(function (trigger) {
              if (trigger in instance) v[trigger].forEach(function (d) { if (!(d in instance)) deps.push(d); });
            });
            if (deps.length) {
              out.push({ path: path, problems: deps.map(function (m) { return [pointerOf(path.concat([m])), "此项为必填项", "dependentRequired"]; }) });
            }
          }
          break;
        case "additionalProperties":
          if (isObject(instance) && v === false) {
            var allowed = isObject(schema.properties) ? schema.properties : {};
            var extras = Object.keys(instance).filter(function (k) { return !(k in allowed); });
            if (extras.length) {
              out.push({ path: path, problems: extras.map(function (k) { return [pointerOf(path.concat([k])), "不允许的字段", "additionalProperties"]; }) });
            }
          } else if (isObject(instance) && isObject(v)) {
            var known = isObject(schema.properties) ? schema.properties : {};
            Object.keys(instance).forEach(function (k) {
              if (!(k in known)) out = out.concat(errorsOf(v, instance[k], path.concat([k])));
            });
          }
          break;
        case "items":
          if (Array.isArray(instance) && (isObject(v) || typeof v === "boolean")) {
            instance.forEach(function (item, i) { out = out.concat(errorsOf(v, item, path.concat([i]))); });
          }
          break;
        case "minLength":
          if (typeof instance === "string" && length(instance) < v) add(kw, v === 1 ? "此项为必填项" : "至少填写 " + v + " 个字符");
          break;
        case "maxLength":
          if (typeof instance === "string" && length(instance) > v) add(kw, "最多填写 " + v + " 个字符");
          break;
        case "minItems":
          if (Array.isArray(instance) && instance.length < v) add(kw, "至少填写 " + v + " 项");
          break;
        case "maxItems":
          if (Array.isArray(instance) && instance.length > v) add(kw, "最多填写 " + v + " 项");
          break;
        case "uniqueItems":
          if (v && Array.isArray(instance) && instance.some(function (a, i) { return instance.slice(i + 1).some(function (b) { return equal(a, b); }); })) add(kw, "各项不能重复");
          break;
        case "minimum":
          if (typeof instance === "number" && instance < v) add(kw, "不能小于 " + num(v));
          break;
        case "maximum":
          if (typeof instance === "number" && instance > v) add(kw, "不能大于 " + num(v));
          break;
        case "exclusiveMinimum":
          if (typeof instance === "number" && instance <= v) add(kw, "应大于 " + num(v));
          break;
        case "exclusiveMaximum":
          if (typeof instance === "number" && instance >= v) add(kw, "应小于 " + num(v));
          break;
        case "enum":
          if (!v.some(function (o) { return equal(o, instance); })) add(kw, "请从给定选项中选择");
          break;
        case "const":
          if (!equal(v, instance)) add(kw, "取值不正确");
          break;
        case "pattern":
          if (typeof instance === "string" && !new RegExp(v, "u").test(instance)) add(kw, "格式不正确");
          break;
        case "format":
          if (typeof instance === "string" && CHECKS[v] && !CHECKS[v](instance)) add(kw, formatMessage(v, instance));
          break;
        case "oneOf":
        case "anyOf":
          var branches = v.map(function (sub) { return errorsOf(sub, instance, path); });
          var passing = branches.filter(function (b) { return !b.length; }).length;
          var bad = kw === "oneOf" ? passing !== 1 : passing === 0;
          if (bad && isChoiceList(v) && kw === "oneOf") {
            out.push({ path: path, problems: [[pointerOf(path), "请从给定选项中选择", "enum"]] });
          } else if (bad) {
            branches.forEach(function (b) { out = out.concat(b); });
            if (passing > 1) add(kw, "填写内容不符合要求");
          }
          break;
        case "allOf":
          v.forEach(function (sub) { out = out.concat(errorsOf(sub, instance, path)); });
          break;
        case "not":
          if (!errorsOf(v, instance, path).length) add(kw, "填写内容不符合要求");
          break;
        case "if":
          var holds = !errorsOf(v, instance, path).length;
          var next = holds ? schema.then : schema["else"];
          if (next !== undefined) out = out.concat(errorsOf(next, instance, path));
          break;
        case "contains":
          if (Array.isArray(instance) && !instance.some(function (item) { return !errorsOf(v, item, path).length; })) {
            add(kw, "填写内容不符合要求");
          }
          break;
        case "multipleOf":
          if (typeof instance === "number" && !Number.isInteger(instance / v)) add(kw, "应为 " + num(v) + " 的整数倍");
          break;
        default:
          break;
      }
    });
    return out;
  }

  function comparePaths(a, b) {
    var x = a.map(String), y = b.map(String);
    for (var i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return x.length - y.length;
  }

  // Every problem once, the first message per pointer: [{pointer, message, code}].
  function problems(schema, instance) {
    var errors = errorsOf(schema, instance, []);
    errors = errors.map(function (e, i) { return { e: e, i: i }; }).sort(function (a, b) {
      return comparePaths(a.e.path, b.e.path) || a.i - b.i;
    }).map(function (x) { return x.e; });
    var seen = {}, byPointer = {}, order = [];
    errors.forEach(function (e) {
      e.problems.forEach(function (p) {
        var key = p[0] + "\u0000" + p[2];
        if (seen[key]) return;
        seen[key] = true;
        if (!(p[0] in byPointer)) { byPointer[p[0]] = p; order.push(p[0]); }
      });
    });
    return order.map(function (ptr) { var p = byPointer[ptr]; return { pointer: p[0], message: p[1], code: p[2] }; });
  }

  // What the server's clean() would say: normalise by the definition, then validate.
  function check(definition, data) {
    var trim = ((definition.ui || {}).trim) || [];
    var cleaned = isObject(data) ? normalise(data, definition.schema, trim, "") : data;
    return problems(definition.schema, cleaned);
  }

  // ---- ui.relevant (fengqiao.forms.relevance.holds): when the page shows a field ----
  function isNumber(v) { return typeof v === "number"; }
  function compare(op, left, right) {
    if (op === "=") return equal(left, right);
    if (!isNumber(left) || !isNumber(right)) return false;
    return op === "<" ? left < right : op === "<=" ? left <= right : op === ">" ? left > right : left >= right;
  }
  // Whether ``tree`` holds for ``scope``, the object holding the field (values as submitted).
  function relevant(tree, scope) {
    if (Array.isArray(tree.and)) return tree.and.every(function (t) { return relevant(t, scope); });
    if (Array.isArray(tree.or)) return tree.or.some(function (t) { return relevant(t, scope); });
    if ("not" in tree) return !relevant(tree.not, scope);
    var value = isObject(scope) && Object.prototype.hasOwnProperty.call(scope, tree.field) ? scope[tree.field] : undefined;
    var op = tree.op;
    if (op === "empty") return isEmpty(value);
    if (op === "!=") return !relevant({ field: tree.field, op: "=", value: tree.value, of: tree.of }, scope);
    if (isEmpty(value)) return false;
    if (op === "filled") return true;
    if (op === "selected") {
      return Array.isArray(value) ? value.some(function (v) { return equal(v, tree.value); }) : equal(value, tree.value);
    }
    if (op === "regex") return typeof value === "string" && new RegExp(tree.value, "u").test(value);
    if (tree.of === "length") value = typeof value === "string" ? length(value) : undefined;
    else if (tree.of === "count") value = Array.isArray(value) ? value.length : undefined;
    return value !== undefined && compare(op, value, tree.value);
  }
  function references(tree, out) {
    out = out || [];
    if (!isObject(tree)) return out;
    if (typeof tree.field === "string" && out.indexOf(tree.field) < 0) out.push(tree.field);
    (Array.isArray(tree.and) ? tree.and : Array.isArray(tree.or) ? tree.or : []).forEach(function (t) { references(t, out); });
    if ("not" in tree) references(tree.not, out);
    return out;
  }

  root.FqRules = { normalise: normalise, problems: problems, check: check, relevant: relevant, references: references };
  if (typeof module !== "undefined" && module.exports) module.exports = root.FqRules;
})(typeof self !== "undefined" ? self : this);
