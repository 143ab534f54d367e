// The API documentation, from local assets (works offline): Swagger UI over the server's OpenAPI document.
import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import "swagger-ui-dist/swagger-ui.css";

SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger", deepLinking: true });
