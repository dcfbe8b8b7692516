// The SQL the Workers' code sends, read from workers/src with the TypeScript compiler.
//
// Prints JSON: every SQL text the code writes (a `sql:` property, a `prepare(...)`
// argument), every `select(table, columns)` builder call and every table spec typed
// `TableSpec` (the upserts of ingestion), each with its file and line; a select's columns
// include those its chained builder calls name (`.where("sport", ...)`, `.orderBy(...)`). Values are folded
// from constants: string and template literals, `const` arrays, `.join(sep)`,
// `.map(identifier)`, `identifier(x)`. What cannot be folded (a table name only known at
// run time) is listed as unresolved, never dropped: d1/queries.py decides about it.
// shared/db.ts is the builder itself: its SQL is the template its callers fill in.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const root = path.resolve(process.argv[2]);
const source = path.join(root, "workers", "src");
const files = fs.readdirSync(source, { recursive: true })
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
  .map((f) => path.join(source, f).split(path.sep).join("/"))
  .sort();
const program = ts.createProgram(files, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true });
const checker = program.getTypeChecker();

class Unresolved extends Error {}
const QUOTING = new Set(["identifier", "quotedName", "quoteIdentifier"]);

function declarationValue(node) {
  let symbol = checker.getSymbolAtLocation(node);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const declaration = symbol?.valueDeclaration;
  if (declaration && (ts.isVariableDeclaration(declaration) || ts.isPropertyAssignment(declaration)) && declaration.initializer) {
    if (ts.isVariableDeclaration(declaration) && !(ts.getCombinedNodeFlags(declaration) & ts.NodeFlags.Const)) throw new Unresolved();
    return fold(declaration.initializer);
  }
  throw new Unresolved();
}

function fold(node) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return node.text;
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) return fold(node.expression);
  if (ts.isTemplateExpression(node)) {
    return node.head.text + node.templateSpans.map((span) => String(fold(span.expression)) + span.literal.text).join("");
  }
  if (ts.isArrayLiteralExpression(node)) return node.elements.map(fold);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) return String(fold(node.left)) + String(fold(node.right));
  if (ts.isIdentifier(node) || ts.isPropertyAccessExpression(node) && !ts.isCallExpression(node.parent)) return declarationValue(node);
  if (ts.isCallExpression(node)) {
    const callee = node.expression;
    if (ts.isIdentifier(callee) && QUOTING.has(callee.text)) return `"${fold(node.arguments[0])}"`;
    if (ts.isPropertyAccessExpression(callee)) {
      const target = fold(callee.expression);
      const method = callee.name.text;
      if (Array.isArray(target) && method === "join") return target.join(node.arguments.length ? fold(node.arguments[0]) : ",");
      if (Array.isArray(target) && method === "map" && ts.isIdentifier(node.arguments[0]) && QUOTING.has(node.arguments[0].text)) {
        return target.map((item) => `"${item}"`);
      }
    }
  }
  throw new Unresolved();
}

const found = { sql: [], selects: [], specs: [], unresolved: [] };

function where(node) {
  const file = node.getSourceFile();
  return { file: path.relative(root, file.fileName), line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1 };
}

function tryFold(node, onValue) {
  try {
    onValue(fold(node));
  } catch (err) {
    if (!(err instanceof Unresolved)) throw err;
    found.unresolved.push({ ...where(node), text: node.getText().slice(0, 120) });
  }
}

// The columns the builder methods chained onto a select(...) call name (where, orderBy...).
const COLUMN_METHODS = { where: 1, whereIn: 1, whereContains: 1, orderBy: 1, whereEither: 2 };
function chained(call) {
  const columns = [];
  let node = call;
  while (ts.isPropertyAccessExpression(node.parent) && ts.isCallExpression(node.parent.parent) && node.parent.parent.expression === node.parent) {
    const count = COLUMN_METHODS[node.parent.name.text] ?? 0;
    node.parent.parent.arguments.slice(0, count).forEach((argument) => tryFold(argument, (column) => columns.push(column)));
    node = node.parent.parent;
  }
  return columns;
}

function visit(node) {
  if (ts.isPropertyAssignment(node) && node.name.getText() === "sql") {
    tryFold(node.initializer, (sql) => found.sql.push({ ...where(node), sql }));
  } else if (ts.isCallExpression(node)) {
    const callee = node.expression;
    if (ts.isIdentifier(callee) && callee.text === "select" && node.arguments.length === 2) {
      tryFold(node.arguments[0], (table) => tryFold(node.arguments[1], (columns) => found.selects.push({ ...where(node), table, columns: [...columns, ...chained(node)] })));
    } else if (ts.isPropertyAccessExpression(callee) && callee.name.text === "prepare" && node.arguments.length === 1) {
      tryFold(node.arguments[0], (sql) => found.sql.push({ ...where(node), sql }));
    }
  } else if (ts.isVariableDeclaration(node) && node.type && /\bTableSpec\b/.test(node.type.getText()) && node.initializer && ts.isObjectLiteralExpression(node.initializer)) {
    for (const property of node.initializer.properties) {
      const spec = property.initializer;
      const columns = spec && ts.isObjectLiteralExpression(spec) && spec.properties.find((p) => p.name?.getText() === "columns");
      if (columns) tryFold(columns.initializer, (value) => found.specs.push({ ...where(property), table: property.name.getText(), columns: value }));
      else found.unresolved.push({ ...where(property), text: property.getText().slice(0, 120) });
    }
  }
  ts.forEachChild(node, visit);
}

for (const file of program.getSourceFiles()) {
  if (!files.includes(file.fileName) || file.fileName.endsWith(path.join("shared", "db.ts"))) continue;
  visit(file);
}
process.stdout.write(JSON.stringify(found, null, 1) + "\n");
