// Validates deploy/argocd/ without a cluster: every object against the Argo CD CRD schemas
// (npm's @kubernetes-models/argo-cd, generated from Argo CD's CRDs), then the ApplicationSet
// rendered as Argo CD would (list generator × go template) into its Applications, each
// validated again and checked against the repository: its overlay exists and sets the
// namespace it deploys to, and its project allows that source and destination.
//
//   node scripts/lib/validate-argocd.mjs DIR_OF_ARGOCD_YAML REPO_ROOT
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { Application } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application";
import { ApplicationSet } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet";
import { AppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject";

const [dir, root] = process.argv.slice(2);
const kinds = { Application, ApplicationSet, AppProject };
const problems = [];
const objects = [];

for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
  for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
    const object = doc.toJS();
    if (!object) continue;
    const Kind = kinds[object.kind];
    if (!Kind) {
      problems.push(`${file}: unexpected kind ${object.kind}`);
      continue;
    }
    try {
      new Kind(object).validate();
    } catch (error) {
      problems.push(`${file}: ${object.kind} ${object.metadata?.name}: ${error.message}`);
    }
    objects.push({ file, object });
  }
}

// The go template as the list generator fills it: {{.key}} only (what these files use).
function render(value, element) {
  if (typeof value === "string") {
    return value.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, key) => {
      if (!(key in element)) throw new Error(`no ${key} in generator element`);
      return element[key];
    });
  }
  if (Array.isArray(value)) return value.map((v) => render(v, element));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, element)]));
  }
  return value;
}

const projects = new Map(
  objects.filter((o) => o.object.kind === "AppProject").map((o) => [o.object.metadata.name, o.object]),
);
const applications = objects
  .filter((o) => o.object.kind === "Application")
  .map((o) => ({ file: o.file, app: o.object }));
for (const { file, object } of objects.filter((o) => o.object.kind === "ApplicationSet")) {
  for (const generator of object.spec.generators) {
    if (!generator.list) {
      problems.push(`${file}: only list generators are rendered here`);
      continue;
    }
    for (const element of generator.list.elements) {
      const app = {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        ...render(object.spec.template, element),
      };
      app.metadata.namespace = object.metadata.namespace;
      applications.push({ file: `${file} (${JSON.stringify(element)})`, app });
    }
  }
}

for (const { file, app } of applications) {
  const name = app.metadata.name;
  try {
    new Application(app).validate();
  } catch (error) {
    problems.push(`${file}: Application ${name}: ${error.message}`);
    continue;
  }
  const source = app.spec.source;
  const overlay = join(root, source.path, "kustomization.yaml");
  if (!existsSync(overlay)) {
    problems.push(`${file}: ${name}: ${source.path} has no kustomization.yaml`);
  } else {
    const kustomization = parseAllDocuments(readFileSync(overlay, "utf8"))[0].toJS();
    if (kustomization.namespace !== app.spec.destination.namespace) {
      problems.push(
        `${file}: ${name} deploys to ${app.spec.destination.namespace}, its overlay sets ${kustomization.namespace}`,
      );
    }
  }
  const project = projects.get(app.spec.project);
  if (!project) {
    problems.push(`${file}: ${name}: no AppProject ${app.spec.project} in ${dir}`);
    continue;
  }
  if (!project.spec.sourceRepos.includes(source.repoURL)) {
    problems.push(`${file}: ${name}: project ${project.metadata.name} does not allow ${source.repoURL}`);
  }
  const allowed = project.spec.destinations.some(
    (d) => d.server === app.spec.destination.server && d.namespace === app.spec.destination.namespace,
  );
  if (!allowed) {
    problems.push(`${file}: ${name}: project ${project.metadata.name} does not allow ${app.spec.destination.namespace}`);
  }
  console.log(`argocd: ${name} → ${source.path} in ${app.spec.destination.namespace}`);
}

if (problems.length) {
  for (const p of problems) console.error(`error: ${p}`);
  process.exit(1);
}
console.log(`argocd: ${objects.length} objects valid, ${applications.length} applications rendered`);
